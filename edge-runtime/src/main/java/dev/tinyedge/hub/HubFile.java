package dev.tinyedge.hub;

/**
 * A file of a Hugging Face repository as its tree listing describes it.
 *
 * @param path   the path in the repository, e.g. {@code tinyllama-1.1b-chat-v1.0.Q4_0.gguf}
 * @param size   bytes
 * @param sha256 the SHA-256 of the content the hub publishes for a Git LFS object ({@code lfs.oid}), lower-case
 *               hex; null for a file kept in Git itself (whose {@code oid} is a Git blob id, not a SHA-256)
 */
public record HubFile(String path, long size, String sha256) {

    /** The name without folders: what the file is called in the models folder. */
    public String fileName() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    public boolean isGguf() {
        return path.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf");
    }
}
