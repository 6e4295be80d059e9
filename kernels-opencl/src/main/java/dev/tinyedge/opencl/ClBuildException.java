package dev.tinyedge.opencl;

/** A kernel source that the device's compiler rejected; the message carries the build log. */
public final class ClBuildException extends ClException {
    public ClBuildException(String file, String device, int code, String log) {
        super(code, file + ": build failed on " + device + " (" + name(code) + "): " + log.strip());
    }
}
