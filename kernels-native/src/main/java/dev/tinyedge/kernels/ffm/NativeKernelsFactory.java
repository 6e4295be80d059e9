package dev.tinyedge.kernels.ffm;

import dev.tinyedge.kernels.KernelProvider;

/** Makes {@link NativeKernels} for {@link KernelProvider#get}, found with ServiceLoader. */
public final class NativeKernelsFactory implements KernelProvider.Factory {
    @Override
    public KernelProvider load(String tier) throws Exception {
        return NativeKernels.load(tier);
    }
}
