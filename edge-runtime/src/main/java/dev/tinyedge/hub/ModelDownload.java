package dev.tinyedge.hub;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Downloads one file of a repository into a folder the safe way: free space checked first, the bytes written
 * to a hidden partial file named after the expected hash (so a newer version of the file never resumes an older
 * one's bytes), resumed with an HTTP range after a lost connection (within this run, or the next one), checked
 * against the SHA-256 the hub publishes, and only then renamed into place in one step. A file that fails the
 * check is deleted.
 */
public final class ModelDownload {
    private static final Logger log = LoggerFactory.getLogger(ModelDownload.class);
    /** Attempts in a row that bring no new byte before the download gives up. */
    private static final int MAX_IDLE_ATTEMPTS = 5;
    private static final long FIRST_RETRY_MILLIS = 500;

    /** A body that brings no byte for this long is closed, and the download resumes with a new request. */
    private static final Duration DEFAULT_STALL_LIMIT = Duration.ofSeconds(60);

    private final HubClient hub;
    private final TransferProgress progress;
    private final Duration stallLimit;

    /** What happened: the file's place, and whether it was already there. */
    public record Result(Path file, boolean alreadyPresent, long bytesTransferred) {
    }

    public ModelDownload(HubClient hub, TransferProgress progress) {
        this(hub, progress, DEFAULT_STALL_LIMIT);
    }

    ModelDownload(HubClient hub, TransferProgress progress, Duration stallLimit) {
        this.hub = hub;
        this.progress = progress;
        this.stallLimit = stallLimit;
    }

    public Result download(String repo, HubFile file, Path folder) throws IOException {
        if (file.size() <= 0) {
            throw new HubException(repo + " lists " + file.path() + " as empty: not a model");
        }
        Files.createDirectories(folder);
        Path target = folder.resolve(file.fileName());
        if (file.sha256() != null && Files.isRegularFile(target) && Files.size(target) == file.size()
                && file.sha256().equals(sha256(target))) {
            return new Result(target, true, 0);
        }
        String key = file.sha256() != null ? file.sha256().substring(0, 16) : "unverified";
        Path partial = folder.resolve("." + file.fileName() + "." + key + ".part");
        long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
        if (have > file.size()) {
            Files.delete(partial);
            have = 0;
        }
        requireSpace(folder, file, have);

        MessageDigest digest = sha256Digest();
        if (have > 0) {
            hashInto(partial, digest);
            log.info("resuming {} at {} of {} bytes", file.fileName(), have, file.size());
        }
        progress.start(file.fileName(), file.size(), have);
        String expected = file.sha256();
        long transferred = 0;
        int idleAttempts = 0;
        try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            out.position(have);
            while (have < file.size()) {
                long before = have;
                try {
                    HubClient.Fetch fetch = hub.open(repo, file.path(), have);
                    expected = agreedHash(expected, fetch, file);
                    try (InputStream body = fetch.body()) {
                        long start = startOf(fetch, have, file);
                        if (start < 0) { // 416: nothing more to send
                            break;
                        }
                        if (start != have) { // a 200: the server sent the whole file, so start again
                            out.truncate(0);
                            out.position(0);
                            digest.reset();
                            have = 0;
                            progress.restartAt(0);
                        }
                        have = copy(body, out, digest, have, file.size());
                    }
                } catch (HubException e) {
                    throw e;
                } catch (IOException e) {
                    have = out.position(); // what arrived before the connection broke stays
                    if (isDiskFull(e)) {
                        throw new HubException("disk full while writing " + partial + ": free some space and run "
                                + "pull again (the " + have / 1_000_000 + " MB downloaded are kept and resumed)", e);
                    }
                    idleAttempts = have > before ? 0 : idleAttempts + 1;
                    if (idleAttempts >= MAX_IDLE_ATTEMPTS) {
                        throw new HubException("the connection to " + hub.endpoint() + " keeps failing (" + e.getMessage()
                                + "): run pull again to resume from " + have / 1_000_000 + " MB", e);
                    }
                    long wait = idleAttempts == 0 ? 0 : FIRST_RETRY_MILLIS << (idleAttempts - 1);
                    log.warn("{}: connection lost at {} bytes ({}); resuming{}", file.fileName(), have, e.getMessage(),
                            wait > 0 ? " in " + wait + " ms" : "");
                    sleep(wait);
                }
                transferred += have - before;
            }
            out.force(true);
        }
        progress.finish();
        long size = Files.size(partial);
        String actual = HexFormat.of().formatHex(digest.digest());
        if (size != file.size() || expected == null || !actual.equals(expected)) {
            Files.delete(partial);
            throw new HubException(file.fileName() + ": " + (size != file.size()
                    ? "got " + size + " bytes, the hub lists " + file.size()
                    : "SHA-256 " + actual + " is not the " + expected + " the hub publishes")
                    + "; the download is corrupt and was deleted: run pull again");
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return new Result(target, false, transferred);
    }

    /**
     * The listing's hash, checked against the one the file's answer names (and the sizes likewise); a file
     * without either hash is refused.
     */
    private static String agreedHash(String listed, HubClient.Fetch fetch, HubFile file) throws HubException {
        String linked = fetch.linkedSha256().orElse(null);
        if (listed != null && linked != null && !listed.equals(linked)) {
            throw new HubException(file.fileName() + " changed on the hub during the download (listed SHA-256 "
                    + listed + ", now " + linked + "): run pull again");
        }
        java.util.OptionalLong linkedSize = fetch.linkedSize();
        if (linkedSize.isPresent() && linkedSize.getAsLong() != file.size()) {
            throw new HubException(file.fileName() + " changed on the hub during the download (listed with "
                    + file.size() + " bytes, now " + linkedSize.getAsLong() + "): run pull again");
        }
        String hash = listed != null ? listed : linked;
        if (hash == null) {
            throw new HubException("the hub publishes no SHA-256 for " + file.path() + " (not a Git LFS file), so it "
                    + "cannot be verified: not downloaded");
        }
        return hash;
    }

    /** Where the body starts: 0 for a 200, the asked offset for a 206 (checked), -1 for a 416 at the end. */
    private static long startOf(HubClient.Fetch fetch, long asked, HubFile file) throws HubException {
        if (fetch.status() == 200) {
            return 0;
        }
        if (fetch.status() == 416) {
            if (asked == file.size()) {
                return -1;
            }
            throw new HubException("the storage host refused to resume " + file.fileName() + " at byte " + asked
                    + " (416): run pull again");
        }
        HubResponses.checkRange(fetch.headers(), asked, file.size(), file.fileName());
        return asked;
    }

    /**
     * Copies the body to the file. A read has no time limit of its own (an open connection that stops sending
     * blocks it forever), so a watchdog closes a body that brought no byte for {@code stallLimit}: the read then
     * ends, and the missing bytes are a lost connection that the caller resumes.
     */
    private long copy(InputStream body, FileChannel out, MessageDigest digest, long have, long size) throws IOException {
        byte[] buffer = new byte[1 << 16];
        AtomicLong lastByteNanos = new AtomicLong(System.nanoTime());
        AtomicBoolean stalled = new AtomicBoolean();
        Thread watchdog = Thread.ofVirtual().name("pull-stall-watchdog").start(() -> {
            long limit = stallLimit.toNanos();
            try {
                while (System.nanoTime() - lastByteNanos.get() < limit) {
                    Thread.sleep(Math.max(1, (limit - (System.nanoTime() - lastByteNanos.get())) / 1_000_000));
                }
                stalled.set(true);
                body.close();
            } catch (InterruptedException | IOException e) {
                // the copy ended first, or the body is already closed
            }
        });
        try {
            int n;
            while ((n = body.read(buffer)) > 0) {
                lastByteNanos.set(System.nanoTime());
                int keep = (int) Math.min(n, size - have);
                if (keep <= 0) {
                    break;
                }
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, keep);
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
                digest.update(buffer, 0, keep);
                have += keep;
                progress.advance(keep);
            }
        } catch (IOException e) {
            if (!stalled.get()) {
                throw e;
            }
        } finally {
            watchdog.interrupt();
        }
        if (have < size) {
            throw new IOException(stalled.get()
                    ? "no byte arrived for " + stallLimit.toSeconds() + " s after " + have + " of " + size + " bytes"
                    : "the connection closed after " + have + " of " + size + " bytes");
        }
        return have;
    }

    private static void requireSpace(Path folder, HubFile file, long have) throws IOException {
        long needed = file.size() - have;
        long free = Files.getFileStore(folder).getUsableSpace();
        if (free < needed) {
            throw new HubException("not enough disk space in " + folder + ": " + file.fileName() + " needs "
                    + ceilMb(needed) + " MB more, " + free / 1_000_000 + " MB are free");
        }
    }

    private static boolean isDiskFull(IOException e) {
        return e.getMessage() != null && e.getMessage().contains("No space left on device");
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest = sha256Digest();
        hashInto(file, digest);
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void hashInto(Path file, MessageDigest digest) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long ceilMb(long bytes) {
        return (bytes + 999_999) / 1_000_000;
    }

    private static void sleep(long millis) throws java.io.InterruptedIOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }
}
