package dev.tinyedge.hub;


import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The two calls of the Hugging Face Hub that a download needs, as huggingface_hub makes them:
 * <ul>
 *   <li>the file listing, {@code GET /api/models/REPO/tree/main?recursive=true}: a JSON array of
 *       {@code {"type":"file","path":..,"size":..,"oid":..,"lfs":{"oid":SHA256,"size":..}}}, continued on
 *       further pages named by a {@code Link: <URL>; rel="next"} header;</li>
 *   <li>the file, {@code GET /REPO/resolve/main/PATH}: for an LFS file a redirect to a storage host (a signed
 *       URL on another host), with {@code X-Linked-Etag} (the quoted SHA-256), {@code X-Linked-Size} and
 *       {@code X-Repo-Commit} on the redirect itself. Redirects are followed here, not by the HTTP client,
 *       so that {@code HF_TOKEN} goes to the hub's own host only.</li>
 * </ul>
 */
public final class HubClient {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final int MAX_REDIRECTS = 8;
    /** From a request to its answer's headers; a host that takes the connection and never answers is given up. */
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);
    /** Bounds on one listing, far above any model repository's, so that a server that never stops is refused. */
    private static final int MAX_LISTING_PAGES = 100;
    private static final int MAX_LISTING_PAGE_BYTES = 16 << 20;

    private final String endpoint;
    private final String token;
    private final HttpClient http;

    /** A file's body from some offset, and the hub's headers about it (those of its first answer). */
    public record Fetch(int status, HttpHeaders hubHeaders, HttpHeaders headers, InputStream body) {
        /** The SHA-256 the hub names for the file's LFS object, if it names one. */
        public Optional<String> linkedSha256() {
            return HubResponses.linkedSha256(hubHeaders);
        }

        /** The size the hub names for the file's LFS object, if it names one. */
        public java.util.OptionalLong linkedSize() {
            return HubResponses.linkedSize(hubHeaders);
        }
    }

    HubClient(String endpoint, String token, HttpClient http) {
        this.endpoint = endpoint.replaceAll("/+$", "");
        this.token = token;
        this.http = http;
    }

    /** {@code HF_ENDPOINT}, {@code HF_TOKEN} and the proxy variables of {@code env}. */
    public static HubClient fromEnvironment(Map<String, String> env) {
        String endpoint = env.getOrDefault("HF_ENDPOINT", "");
        String token = env.getOrDefault("HF_TOKEN", "").strip();
        HttpClient.Builder builder = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(20));
        EnvironmentProxy.from(env).ifPresent(proxy -> {
            builder.proxy(proxy);
            proxy.authenticator().ifPresent(builder::authenticator);
        });
        return new HubClient(endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint.strip(), token.isEmpty() ? null : token,
                builder.build());
    }

    public String endpoint() {
        return endpoint;
    }

    /** Every file of the repository's main branch. */
    public List<HubFile> listFiles(String repo) throws IOException {
        List<HubFile> files = new ArrayList<>();
        URI page = URI.create(endpoint + "/api/models/" + repo + "/tree/main?recursive=true");
        for (int pages = 1; page != null; pages++) {
            if (pages > MAX_LISTING_PAGES) {
                throw new HubException(endpoint + " sent more than " + MAX_LISTING_PAGES + " pages of file listing for "
                        + repo + ": not a model repository");
            }
            HttpResponse<InputStream> response = send(page, -1, true);
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw HubException.forStatus(response.statusCode(), response.headers(), endpoint, repo,
                            "file listing", token != null);
                }
                byte[] json = body.readNBytes(MAX_LISTING_PAGE_BYTES + 1);
                if (json.length > MAX_LISTING_PAGE_BYTES) {
                    throw new HubException(endpoint + " sent a page of file listing for " + repo + " over "
                            + (MAX_LISTING_PAGE_BYTES >> 20) + " MiB: not a model repository");
                }
                files.addAll(HubResponses.listing(new java.io.ByteArrayInputStream(json), endpoint, repo));
            }
            page = HubResponses.nextPage(response.headers(), URI.create(endpoint + "/")).orElse(null);
        }
        return files;
    }

    /**
     * Opens {@code resolve/main/PATH} from byte {@code offset} (0: the whole file), following the redirects to
     * the storage host. The caller reads and closes the body; a status other than 200 or 206 is an error.
     */
    public Fetch open(String repo, String path, long offset) throws IOException {
        URI uri = URI.create(endpoint + "/" + repo + "/resolve/main/" + encodePath(path));
        HttpHeaders hubHeaders = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            boolean hub = HubResponses.sameOrigin(uri, URI.create(endpoint));
            HttpResponse<InputStream> response = send(uri, offset, hub);
            if (hubHeaders == null) {
                hubHeaders = response.headers();
            }
            int status = response.statusCode();
            Optional<String> location = response.headers().firstValue("Location");
            if (status / 100 == 3 && location.isPresent()) {
                response.body().close();
                uri = HubResponses.redirect(uri, location.get());
                continue;
            }
            if (status == 200 || status == 206 || status == 416) {
                return new Fetch(status, hubHeaders, response.headers(), response.body());
            }
            response.body().close();
            if (!hub && (status == 401 || status == 403)) {
                throw new HubException("the storage host " + uri.getHost() + " refused " + path + " (" + status
                        + "): its signed link may have expired; run pull again");
            }
            throw HubException.forStatus(status, response.headers(), endpoint, repo, "file " + path, token != null);
        }
        throw new HubException(endpoint + " redirected " + path + " more than " + MAX_REDIRECTS + " times");
    }

    private HttpResponse<InputStream> send(URI uri, long offset, boolean withToken) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET()
                .timeout(ANSWER_TIMEOUT)
                .header("User-Agent", "tinyedge/0.1.0")
                .header("Accept-Encoding", "identity");
        if (withToken && token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (offset > 0) {
            request.header("Range", "bytes=" + offset + "-");
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | HttpConnectTimeoutException | UnresolvedAddressException e) {
            throw unreachable(uri, e);
        } catch (HttpTimeoutException e) {
            throw new HttpTimeoutException(uri.getScheme() + "://" + uri.getAuthority() + " took the request but sent no "
                    + "answer within " + ANSWER_TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            if (e.getCause() instanceof UnresolvedAddressException || e.getCause() instanceof ConnectException) {
                throw unreachable(uri, e);
            }
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while talking to " + uri.getHost());
        }
    }

    private static HubException unreachable(URI uri, Exception e) {
        String why = e instanceof UnresolvedAddressException || e.getCause() instanceof UnresolvedAddressException
                ? "the name does not resolve" : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new HubException("cannot reach " + uri.getScheme() + "://" + uri.getAuthority() + " (" + why
                + "): no network? a proxy is set with HTTPS_PROXY; another hub with HF_ENDPOINT", e);
    }

    private static String encodePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (String part : path.split("/")) {
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return sb.toString();
    }
}
