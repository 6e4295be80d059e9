package dev.tinyedge.opencl;

/** No usable OpenCL here: no library, no platform, or no device matching the selection. */
public final class OpenClUnavailableException extends RuntimeException {
    public OpenClUnavailableException(String message) {
        super(message);
    }
}
