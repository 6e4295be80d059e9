package dev.tinyedge.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.lwjgl.opencl.CL10.*;
import static org.lwjgl.opencl.CL12.CL_MAP_WRITE_INVALIDATE_REGION;

/**
 * A context and an in-order command queue on one device, and the buffers made in it. Kernels are
 * queued without events; a failed kernel surfaces at the next blocking call ({@link #read},
 * {@link #finish}), whose status is checked like every other call's.
 */
public final class ClContext implements AutoCloseable {
    private final ClDevice device;
    private final long context;
    private final long queue;
    private final List<Long> buffers = new ArrayList<>();

    public ClContext(ClDevice device) {
        this.device = device;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer status = stack.mallocInt(1);
            PointerBuffer properties = stack.pointers(CL_CONTEXT_PLATFORM, device.platform(), 0);
            context = clCreateContext(properties, device.id(), null, 0, status);
            ClException.check(status.get(0), "clCreateContext");
            queue = clCreateCommandQueue(context, device.id(), 0, status);
            if (status.get(0) != CL_SUCCESS) {
                clReleaseContext(context);
                ClException.check(status.get(0), "clCreateCommandQueue");
            }
        }
    }

    public ClDevice device() {
        return device;
    }

    long context() {
        return context;
    }

    long queue() {
        return queue;
    }

    /** A device buffer for activations or caches (CL_MEM_READ_WRITE), released with the context. */
    public long buffer(long bytes) {
        return createBuffer(CL_MEM_READ_WRITE, bytes);
    }

    /**
     * A read-only buffer filled once by {@code fill} through a mapping. On a unified-memory device
     * CL_MEM_ALLOC_HOST_PTR has the driver hand out memory that host and GPU both use in place, so the
     * mapping writes straight into what the kernels read (and the caller can drop the file's copy); a
     * discrete device gets an ordinary device buffer, uploaded on unmap.
     */
    public long constantBuffer(long bytes, Consumer<MemorySegment> fill) {
        long buffer = createBuffer(CL_MEM_READ_ONLY | (device.unifiedMemory() ? CL_MEM_ALLOC_HOST_PTR : 0), bytes);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer status = stack.mallocInt(1);
            ByteBuffer mapped = clEnqueueMapBuffer(queue, buffer, true, CL_MAP_WRITE_INVALIDATE_REGION, 0, bytes,
                    null, null, status, null);
            ClException.check(status.get(0), "clEnqueueMapBuffer");
            fill.accept(MemorySegment.ofBuffer(mapped));
            ClException.check(clEnqueueUnmapMemObject(queue, buffer, mapped, null, null), "clEnqueueUnmapMemObject");
        }
        return buffer;
    }

    /** A device buffer the caller releases (clReleaseMemObject) as soon as it is done with it. */
    long temporaryBuffer(long bytes) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer status = stack.mallocInt(1);
            long buffer = clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(bytes, 4), status);
            ClException.check(status.get(0), "clCreateBuffer(" + bytes + " bytes)");
            return buffer;
        }
    }

    private long createBuffer(long flags, long bytes) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer status = stack.mallocInt(1);
            long buffer = clCreateBuffer(context, flags, Math.max(bytes, 4), status);
            ClException.check(status.get(0), "clCreateBuffer(" + bytes + " bytes)");
            buffers.add(buffer);
            return buffer;
        }
    }

    /** Writes values' remaining floats (a direct buffer) at offsetBytes, waiting until they are copied. */
    public void write(long buffer, long offsetBytes, FloatBuffer values) {
        ClException.check(clEnqueueWriteBuffer(queue, buffer, true, offsetBytes, values, null, null),
                "clEnqueueWriteBuffer");
    }

    public void read(long buffer, long offsetBytes, float[] values) {
        ClException.check(clEnqueueReadBuffer(queue, buffer, true, offsetBytes, values, null, null),
                "clEnqueueReadBuffer");
    }

    /** Reads target's remaining bytes (a direct buffer) from offsetBytes on. */
    public void read(long buffer, long offsetBytes, ByteBuffer target) {
        ClException.check(clEnqueueReadBuffer(queue, buffer, true, offsetBytes, target, null, null),
                "clEnqueueReadBuffer");
    }

    public void copy(long source, long sourceOffsetBytes, long target, long targetOffsetBytes, long bytes) {
        ClException.check(clEnqueueCopyBuffer(queue, source, target, sourceOffsetBytes, targetOffsetBytes, bytes,
                null, null), "clEnqueueCopyBuffer");
    }

    public void finish() {
        ClException.check(clFinish(queue), "clFinish");
    }

    /** Releases every buffer made here, the queue and the context. */
    @Override
    public void close() {
        clFinish(queue);
        for (long buffer : buffers) {
            clReleaseMemObject(buffer);
        }
        buffers.clear();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
