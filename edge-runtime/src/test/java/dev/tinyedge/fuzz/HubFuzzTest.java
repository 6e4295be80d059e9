package dev.tinyedge.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tinyedge.hub.GgufChoice;
import dev.tinyedge.hub.HubException;
import dev.tinyedge.hub.HubFile;
import dev.tinyedge.hub.HubResponses;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a hub (or a man in the middle, or a broken mirror named by {@code HF_ENDPOINT}) can send {@code pull}: any
 * bytes as a page of the tree listing, any values of the headers a download acts on ({@code Link},
 * {@code Location}, {@code Content-Range}, {@code X-Linked-Etag}, {@code X-Linked-Size}). Each is read, or refused with
 * a {@link HubException} (which the command line prints as one {@code tinyedge: error:} line); what is read must
 * be safe to act on: a file name that stays inside the models folder, a SHA-256 that is one, a next page on the
 * hub's own host (the token goes with it), a redirect the HTTP client can follow, a range that continues the
 * file where it stopped.
 */
class HubFuzzTest {
    private static final String ENDPOINT = "https://huggingface.co";
    private static final String REPO = "owner/name";
    private static final Path MODELS = Path.of("/models");
    private static final List<GgufChoice> CHOICES = List.of(GgufChoice.parse(REPO), GgufChoice.parse(REPO + ":Q4_K_M"),
            GgufChoice.parse(REPO + ":model.Q4_0.gguf"));
    private static final List<String> HEADERS = List.of("Link", "Location", "Content-Range", "X-Linked-Etag",
            "X-Linked-Size");

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    @DictionaryEntries({"[", "]", "{", "}", "\"type\"", "\"file\"", "\"directory\"", "\"path\"", "\"size\"", "\"oid\"",
            "\"lfs\"", "\"pointerSize\"", "null", "-1", "1e30", "9223372036854775808", "\"..\"", "\"a/../b.gguf\"",
            "\"/etc/x.gguf\"", "\"model.Q4_0.gguf\"", "\"x-Q4_K_M.gguf\"", "\"\\u0000\"", "\"\\n\"",
            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\""})
    void readsOrRefusesAnyListing(byte[] json) throws IOException {
        List<HubFile> files;
        try {
            files = HubResponses.listing(new ByteArrayInputStream(json), ENDPOINT, REPO);
        } catch (HubException e) {
            assertRefusal(e);
            return;
        }
        for (HubFile file : files) {
            assertNotNull(file.path());
            assertTrue(file.size() >= 0, "size " + file.size());
            assertTrue(file.sha256() == null || file.sha256().matches("[0-9a-f]{64}"), file.sha256());
            // where ModelDownload puts the file and its partial download: in the models folder, nowhere else
            String key = file.sha256() != null ? file.sha256().substring(0, 16) : "unverified";
            for (String name : List.of(file.fileName(), "." + file.fileName() + "." + key + ".part")) {
                Path target = MODELS.resolve(name);
                assertEquals(MODELS, target.getParent(), name);
                assertEquals(target, target.normalize(), name);
            }
        }
        // what pull does next with the listing
        for (GgufChoice choice : CHOICES) {
            try {
                assertTrue(files.contains(choice.pick(files)));
            } catch (HubException e) {
                assertRefusal(e);
            }
        }
    }

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    @DictionaryEntries({"<", ">", "; rel=\"next\"", "rel=next", "https://huggingface.co/", "http://", "https://",
            "//", "../", "file:/etc/passwd", "ftp://h/", "https://cdn-lfs.hf.co/x?X-Amz-Signature=", ":443", ":0",
            "@", "%", "#", "bytes ", "bytes 0-", "/*", "W/\"", "\"", "9223372036854775807", "99999999999999999999",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})
    void readsOrRefusesAnyAnswerHeaders(byte[] input) {
        // one header value a line, as HTTP carries them (a value has no line break), after a line with the
        // listed size and the byte the download resumes at
        String[] lines = new String(input, StandardCharsets.UTF_8).split("\n", -1);
        long size = 1 + Math.floorMod(number(lines[0], 0), 1L << 42);
        long asked = Math.floorMod(number(lines[0], 1), size);
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (int i = 0; i < HEADERS.size() && i + 1 < lines.length; i++) {
            values.put(HEADERS.get(i), List.of(lines[i + 1]));
        }
        HttpHeaders headers = HttpHeaders.of(values, (name, value) -> true);

        Optional<String> sha = HubResponses.linkedSha256(headers);
        sha.ifPresent(s -> assertTrue(s.matches("[0-9a-f]{64}"), s));
        OptionalLong linkedSize = HubResponses.linkedSize(headers);
        linkedSize.ifPresent(s -> assertTrue(s >= 0, "X-Linked-Size " + s));

        URI endpoint = URI.create(ENDPOINT + "/");
        try {
            HubResponses.nextPage(headers, endpoint).ifPresent(page -> {
                // schemes and hosts are case-insensitive (RFC 3986): htTps://HuggingFace.co is the hub's origin
                assertEquals("https", page.getScheme().toLowerCase(java.util.Locale.ROOT), page.toString());
                assertEquals("huggingface.co", page.getHost().toLowerCase(java.util.Locale.ROOT), page.toString());
                assertEquals(-1, page.getPort(), page.toString());
                HttpRequest.newBuilder(page).GET().build(); // the listing's next request
            });
        } catch (HubException e) {
            assertRefusal(e);
        }

        for (URI from : List.of(URI.create(ENDPOINT + "/" + REPO + "/resolve/main/model.Q4_0.gguf"),
                URI.create("http://127.0.0.1:8080/xet-bridge/e3b0c442?sig=1"))) {
            try {
                URI to = HubResponses.redirect(from, headers.firstValue("Location").orElse(""));
                assertTrue(to.isAbsolute() && to.getHost() != null, to.toString());
                HttpRequest.newBuilder(to).GET().header("Range", "bytes=" + asked + "-").build(); // the next hop
            } catch (HubException e) {
                assertRefusal(e);
            }
        }

        try {
            HubResponses.checkRange(headers, asked, size, "model.Q4_0.gguf");
            // accepted: "bytes ASKED-END/SIZE" (or /*) that continues the file where it stopped
            String range = headers.firstValue("Content-Range").orElseThrow();
            assertTrue(range.startsWith("bytes "), range);
            String[] startEndTotal = range.substring("bytes ".length()).split("[-/]", -1);
            assertEquals(3, startEndTotal.length, range);
            assertEquals(asked, Long.parseLong(startEndTotal[0]), range);
            long end = Long.parseLong(startEndTotal[1]);
            assertTrue(end >= asked && end < size, range);
            assertTrue(startEndTotal[2].equals("*") || Long.parseLong(startEndTotal[2]) == size, range);
        } catch (HubException e) {
            assertRefusal(e);
        }
    }

    /** The {@code index}th whitespace-separated number of {@code line}, 0 if there is none. */
    private static long number(String line, int index) {
        String[] parts = line.strip().split("\\s+");
        try {
            return index < parts.length ? Long.parseLong(parts[index]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void assertRefusal(HubException e) {
        assertNotNull(e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }
}
