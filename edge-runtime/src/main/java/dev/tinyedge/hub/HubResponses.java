package dev.tinyedge.hub;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a download acts on in the hub's and the storage host's answers, read as untrusted input: the tree
 * listing's JSON, the {@code Link} to its next page, a redirect's {@code Location}, {@code X-Linked-Etag} and
 * {@code X-Linked-Size}, and a range answer's {@code Content-Range}. Each returns what it read or throws a
 * {@link HubException} that says what was wrong. Nothing here touches the network (the fuzz tests call these
 * directly).
 */
public final class HubResponses {
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    /** At most 18 digits: every such number fits a long. */
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern DECIMAL = Pattern.compile("\\d{1,18}");
    private static final ObjectMapper JSON = new ObjectMapper();

    @JsonIgnoreProperties(ignoreUnknown = true)
    private record TreeEntry(String type, String path, Long size, Lfs lfs) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    private record Lfs(String oid, Long size) {
    }

    private HubResponses() {
    }

    /**
     * The files of one page of {@code GET /api/models/REPO/tree/main}. A page that is not the hub's JSON, or
     * lists a file without a size, with a path that is not a plain relative path (it becomes a file name in
     * the models folder) or with an LFS hash that is not a SHA-256, is refused whole.
     */
    public static List<HubFile> listing(InputStream body, String endpoint, String repo) throws IOException {
        List<TreeEntry> entries;
        // JSON between systems is UTF-8 (RFC 8259); Jackson would guess UTF-16 or UTF-32 from the first bytes
        try (Reader utf8 = new InputStreamReader(body, StandardCharsets.UTF_8.newDecoder())) {
            entries = JSON.readValue(utf8, new TypeReference<List<TreeEntry>>() { });
        } catch (JacksonException e) {
            throw new HubException(endpoint + " sent a file listing for " + repo + " that is not the hub's JSON: "
                    + e.getOriginalMessage());
        } catch (CharacterCodingException e) {
            throw new HubException(endpoint + " sent a file listing for " + repo + " that is not UTF-8 text");
        }
        if (entries == null) {
            throw new HubException(endpoint + " sent a file listing for " + repo + " that is not the hub's JSON: null");
        }
        List<HubFile> files = new ArrayList<>();
        for (TreeEntry entry : entries) {
            if (entry == null || !"file".equals(entry.type())) {
                continue;
            }
            String refused = refusal(entry);
            if (refused != null) {
                throw new HubException(endpoint + " sent a file listing for " + repo + " with an unusable entry: "
                        + refused);
            }
            String sha = entry.lfs() == null ? null : entry.lfs().oid().toLowerCase(Locale.ROOT);
            files.add(new HubFile(entry.path(), entry.size(), sha));
        }
        return files;
    }

    /** Why a file entry cannot be used, or null. */
    private static String refusal(TreeEntry entry) {
        String path = entry.path();
        if (path == null || path.isEmpty()) {
            return "a file without a path";
        }
        String shown = "'" + path.codePoints().limit(200)
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append) + "'";
        if (path.chars().anyMatch(Character::isISOControl)) {
            return shown + " has control characters in its path";
        }
        for (String part : path.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                return shown + " is not a plain relative path";
            }
        }
        if (entry.size() == null || entry.size() < 0) {
            return shown + " has no size";
        }
        if (entry.lfs() != null) {
            String oid = entry.lfs().oid() == null ? "" : entry.lfs().oid().toLowerCase(Locale.ROOT);
            if (!SHA256.matcher(oid).matches()) {
                return shown + " has an LFS oid that is not a SHA-256";
            }
            if (entry.lfs().size() != null && !entry.lfs().size().equals(entry.size())) {
                return shown + " has two sizes, " + entry.size() + " and LFS " + entry.lfs().size();
            }
        }
        return null;
    }

    /**
     * The next page that a listing's {@code Link} headers name ({@code <URL>; rel="next"}), resolved against
     * the hub's {@code endpoint}. The listing sends the token, so a next page on another host is refused.
     */
    public static Optional<URI> nextPage(HttpHeaders headers, URI endpoint) throws HubException {
        for (String link : headers.allValues("Link")) {
            Matcher next = NEXT_LINK.matcher(link);
            if (next.find()) {
                URI page = resolve(endpoint, next.group(1), "a next listing page");
                if (!sameOrigin(page, endpoint)) {
                    throw new HubException(endpoint + " named a next listing page on another host (" + origin(page)
                            + "): not followed");
                }
                return Optional.of(page);
            }
        }
        return Optional.empty();
    }

    /** Where a redirect from {@code from} to {@code location} goes: an http or https URL with a host. */
    public static URI redirect(URI from, String location) throws HubException {
        return resolve(from, location, "a redirect");
    }

    /** The SHA-256 the hub names for the file's LFS object ({@code X-Linked-Etag}), if it names one. */
    public static Optional<String> linkedSha256(HttpHeaders hubHeaders) {
        return hubHeaders.firstValue("X-Linked-Etag")
                .map(tag -> tag.replaceFirst("^W/", "").replace("\"", "").toLowerCase(Locale.ROOT))
                .filter(tag -> SHA256.matcher(tag).matches());
    }

    /** The size the hub names for the file's LFS object ({@code X-Linked-Size}), if it names one. */
    public static OptionalLong linkedSize(HttpHeaders hubHeaders) {
        return hubHeaders.firstValue("X-Linked-Size").filter(s -> DECIMAL.matcher(s).matches())
                .map(s -> OptionalLong.of(Long.parseLong(s))).orElse(OptionalLong.empty());
    }

    /**
     * Checks a 206's {@code Content-Range} against the request {@code bytes=ASKED-}: it must be
     * {@code bytes ASKED-END/SIZE} (or {@code /*}) with ASKED &le; END &lt; SIZE, the size the listing gave.
     */
    public static void checkRange(HttpHeaders headers, long asked, long size, String fileName) throws HubException {
        String value = headers.firstValue("Content-Range").orElse("");
        Matcher range = CONTENT_RANGE.matcher(value);
        if (!range.matches()) {
            throw new HubException("the storage host answered a range request for " + fileName
                    + " without a valid Content-Range");
        }
        long start = Long.parseLong(range.group(1));
        long end = Long.parseLong(range.group(2));
        long total = range.group(3).equals("*") ? size : Long.parseLong(range.group(3));
        if (total != size) {
            throw new HubException("the storage host has " + total + " bytes of " + fileName + ", the hub lists "
                    + size + ": run pull again");
        }
        if (start != asked || end < start || end >= size) {
            throw new HubException("the storage host answered a request for " + fileName + " from byte " + asked
                    + " with bytes " + start + "-" + end + ": run pull again");
        }
    }

    private static URI resolve(URI base, String reference, String what) throws HubException {
        URI uri;
        try {
            uri = base.resolve(reference);
        } catch (IllegalArgumentException e) {
            throw new HubException(origin(base) + " sent " + what + " to an invalid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new HubException(origin(base) + " sent " + what + " to a URL that is not http(s)://HOST/...");
        }
        return uri;
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort()
                && a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme());
    }

    private static String origin(URI uri) {
        return uri.getScheme() + "://" + uri.getRawAuthority();
    }
}
