package dev.tinyedge.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for the Hugging Face Hub on loopback, answering as the real one does (as huggingface_hub's code
 * expects it): the tree listing API with {@code lfs.oid} and {@code Link} pagination, {@code resolve/main/FILE}
 * redirecting to a second server on another port (the storage host) with {@code X-Linked-Etag},
 * {@code X-Linked-Size} and {@code X-Repo-Commit}, byte ranges there, and the hub's errors: 401 with
 * {@code X-Error-Code: RepoNotFound} for an unknown repository asked without a token (404 with one), 401/403
 * {@code GatedRepo}, 404 {@code EntryNotFound}. Faults on demand: a 500, a connection cut after some bytes, the
 * wrong bytes, ranges ignored. It also serves as an HTTP proxy for requests in absolute form.
 */
public final class HubStandIn implements AutoCloseable {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    /** A repository: its files, whether it is gated and which token may read it. */
    public static final class Repo {
        public final Map<String, byte[]> files = new LinkedHashMap<>();
        final Map<String, Long> listedSizes = new ConcurrentHashMap<>();
        public boolean gated;
        public String grantedToken;
        int pageSize = 1000;
    }

    final Map<String, Repo> repos = new ConcurrentHashMap<>();
    /** Requests as "HOST-KIND METHOD PATH range=... auth=..." in arrival order. */
    final List<String> log = new CopyOnWriteArrayList<>();
    /** Absolute-form request URIs the hub got: it was used as a proxy. */
    final List<URI> proxied = new CopyOnWriteArrayList<>();
    volatile boolean failListing;
    /** The storage host's next answers: cut the body after this many bytes (count down per request). */
    volatile long cutAfterBytes = -1;
    volatile int cutsLeft;
    /** The cuts keep the connection open and send nothing more, instead of closing it. */
    volatile boolean stallInsteadOfCut;
    /** After the cuts, answer this status instead of the file (0: serve). */
    volatile int storageStatus;
    volatile boolean ignoreRanges;
    /** Served instead of a file's bytes: a corrupt copy. */
    final Map<String, byte[]> corrupt = new ConcurrentHashMap<>();

    private final CountDownLatch stalled = new CountDownLatch(1);
    private final HttpServer hub;
    private final HttpServer storage;
    private final ObjectMapper json = new ObjectMapper();

    public HubStandIn() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        storage = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        hub.createContext("/", this::onHub);
        storage.createContext("/", this::onStorage);
        // a stalled answer holds its thread: the resumed request needs another
        storage.setExecutor(Executors.newCachedThreadPool());
        hub.start();
        storage.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    int hubPort() {
        return hub.getAddress().getPort();
    }

    public Repo repo(String name) {
        return repos.computeIfAbsent(name, n -> new Repo());
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<String> storageRequests() {
        return log.stream().filter(l -> l.startsWith("storage")).toList();
    }

    private void onHub(HttpExchange x) throws IOException {
        URI uri = x.getRequestURI();
        if (uri.getHost() != null) {
            proxied.add(uri);
        }
        String auth = x.getRequestHeaders().getFirst("Authorization");
        log.add("hub " + x.getRequestMethod() + " " + uri.getPath() + " auth=" + auth);
        String token = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
        String path = uri.getPath();
        try (x) {
            if (path.startsWith("/api/models/")) {
                listing(x, path.substring("/api/models/".length()), uri.getRawQuery(), token);
            } else if (path.contains("/resolve/main/")) {
                resolve(x, path.substring(1, path.indexOf("/resolve/main/")),
                        path.substring(path.indexOf("/resolve/main/") + "/resolve/main/".length()), token);
            } else {
                send(x, 404, Map.of(), "not found");
            }
        }
    }

    private void listing(HttpExchange x, String rest, String query, String token) throws IOException {
        String name = rest.substring(0, rest.indexOf("/tree/main"));
        if (failListing) {
            send(x, 500, Map.of(), "Internal Error");
            return;
        }
        Repo repo = repos.get(name);
        if (repo == null) {
            send(x, token == null ? 401 : 404, Map.of("X-Error-Code", "RepoNotFound",
                    "X-Error-Message", "Repository not found"), "{\"error\":\"Repository not found\"}");
            return;
        }
        int from = 0;
        if (query != null && query.contains("cursor=")) {
            from = Integer.parseInt(query.substring(query.indexOf("cursor=") + 7));
        }
        List<Map<String, Object>> entries = new ArrayList<>();
        List<String> names = new ArrayList<>(repo.files.keySet());
        int to = Math.min(names.size(), from + repo.pageSize);
        for (String file : names.subList(from, to)) {
            byte[] data = repo.files.get(file);
            long size = repo.listedSizes.getOrDefault(file, (long) data.length);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("type", "file");
            entry.put("oid", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
            entry.put("size", size);
            entry.put("path", file);
            if (file.endsWith(".gguf")) {
                entry.put("lfs", Map.of("oid", sha256(data), "size", size, "pointerSize", 135));
            }
            entries.add(entry);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        if (to < names.size()) {
            headers.put("Link", "<" + endpoint() + "/api/models/" + name + "/tree/main?recursive=true&cursor=" + to
                    + ">; rel=\"next\"");
        }
        headers.put("Content-Type", "application/json");
        send(x, 200, headers, json.writeValueAsString(entries));
    }

    private void resolve(HttpExchange x, String name, String file, String token) throws IOException {
        Repo repo = repos.get(name);
        if (repo == null) {
            send(x, token == null ? 401 : 404, Map.of("X-Error-Code", "RepoNotFound"), "Repository not found");
            return;
        }
        if (repo.gated && token == null) {
            send(x, 401, Map.of("X-Error-Code", "GatedRepo", "X-Error-Message",
                    "Access to model " + name + " is restricted. You must have access to it and be authenticated"),
                    "gated");
            return;
        }
        if (repo.gated && !token.equals(repo.grantedToken)) {
            send(x, 403, Map.of("X-Error-Code", "GatedRepo", "X-Error-Message",
                    "Access to model " + name + " is restricted and you are not in the authorized list"), "gated");
            return;
        }
        byte[] data = repo.files.get(file);
        if (data == null) {
            send(x, 404, Map.of("X-Error-Code", "EntryNotFound", "X-Error-Message", "Entry not found"), "Entry not found");
            return;
        }
        String sha = sha256(data);
        send(x, 302, Map.of("Location", "http://127.0.0.1:" + storage.getAddress().getPort() + "/xet-bridge/" + sha
                        + "?X-Amz-Signature=stand-in&name=" + file,
                "X-Linked-Etag", "\"" + sha + "\"", "X-Linked-Size", Long.toString(data.length),
                "X-Repo-Commit", COMMIT, "ETag", "\"" + sha + "\""), "Found. Redirecting");
    }

    private void onStorage(HttpExchange x) throws IOException {
        String range = x.getRequestHeaders().getFirst("Range");
        log.add("storage " + x.getRequestMethod() + " " + x.getRequestURI().getPath() + " range=" + range
                + " auth=" + x.getRequestHeaders().getFirst("Authorization"));
        try (x) {
            String sha = x.getRequestURI().getPath().substring("/xet-bridge/".length());
            byte[] data = null;
            for (Repo repo : repos.values()) {
                for (Map.Entry<String, byte[]> f : repo.files.entrySet()) {
                    if (sha256(f.getValue()).equals(sha)) {
                        data = corrupt.getOrDefault(f.getKey(), f.getValue());
                    }
                }
            }
            if (data == null) {
                send(x, 404, Map.of(), "NoSuchKey");
                return;
            }
            boolean cut = cutsLeft > 0;
            if (!cut && storageStatus != 0) {
                send(x, storageStatus, Map.of(), "Service Unavailable");
                return;
            }
            long start = 0;
            if (range != null && !ignoreRanges) {
                start = Long.parseLong(range.replaceFirst("bytes=(\\d+)-.*", "$1"));
            }
            int length = (int) (data.length - start);
            if (start > 0) {
                x.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (data.length - 1) + "/" + data.length);
            }
            x.getResponseHeaders().add("Accept-Ranges", "bytes");
            x.sendResponseHeaders(start > 0 ? 206 : 200, length);
            OutputStream body = x.getResponseBody();
            if (cut) {
                cutsLeft--;
                body.write(data, (int) start, (int) Math.min(length, cutAfterBytes));
                body.flush();
                if (stallInsteadOfCut) {
                    stalled.await(60, TimeUnit.SECONDS);
                }
                // the connection drops mid-file: the client sees fewer bytes than Content-Length
                throw new IOException("cut");
            }
            body.write(data, (int) start, length);
        } catch (IOException cut) {
            if (!"cut".equals(cut.getMessage())) {
                throw cut;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void send(HttpExchange x, int status, Map<String, String> headers, String body) throws IOException {
        headers.forEach((k, v) -> x.getResponseHeaders().add(k, v));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, bytes.length);
        x.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        stalled.countDown();
        hub.stop(0);
        storage.stop(0);
    }
}
