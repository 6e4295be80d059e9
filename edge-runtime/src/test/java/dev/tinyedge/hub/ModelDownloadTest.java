package dev.tinyedge.hub;

import dev.tinyedge.translate.TinyModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pulling from the loopback hub stand-in ({@link HubStandIn}): the synthetic tiny model (a few MB, written by
 * the same code as {@code tinyedge synth}) under a GGUF repository's usual file names. No weights are fetched
 * from anywhere.
 */
class ModelDownloadTest {
    private static final String REPO = "stand-in/Tiny-GGUF";
    private static final String Q4 = "tiny-chat.Q4_0.gguf";

    @TempDir
    Path folder;
    private HubStandIn hub;
    private byte[] model;

    @BeforeEach
    void start() throws IOException {
        hub = new HubStandIn();
        model = Files.readAllBytes(TinyModel.path());
        HubStandIn.Repo repo = hub.repo(REPO);
        repo.files.put("README.md", "# tiny".getBytes());
        repo.files.put(Q4, model);
        byte[] other = model.clone();
        other[other.length - 1] ^= 1;
        repo.files.put("tiny-chat.Q8_0.gguf", other);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private HubClient client(String... env) {
        Map<String, String> variables = new HashMap<>(Map.of("HF_ENDPOINT", hub.endpoint()));
        for (int i = 0; i < env.length; i += 2) {
            variables.put(env[i], env[i + 1]);
        }
        return HubClient.fromEnvironment(variables);
    }

    private ModelDownload.Result pull(HubClient client, String spec) throws IOException {
        GgufChoice choice = GgufChoice.parse(spec);
        HubFile file = choice.pick(client.listFiles(choice.repo()));
        return new ModelDownload(client, new TransferProgress(null)).download(choice.repo(), file, folder);
    }

    private List<Path> folderContents() throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.sorted().toList();
        }
    }

    @Test
    void downloadsThroughTheRedirectVerifiesTheHashAndRenamesIntoPlace() throws Exception {
        ModelDownload.Result result = pull(client(), REPO + ":Q4_0");
        assertEquals(folder.resolve(Q4), result.file());
        assertFalse(result.alreadyPresent());
        assertArrayEquals(model, Files.readAllBytes(result.file()));
        assertEquals(List.of(result.file()), folderContents(), "no partial file left behind");
        assertEquals(1, hub.storageRequests().size(), hub.log.toString());
        assertTrue(hub.storageRequests().getFirst().contains("range=null"), hub.log.toString());

        ModelDownload.Result again = pull(client(), REPO + ":Q4_0");
        assertTrue(again.alreadyPresent(), "a verified file is not fetched twice");
        assertEquals(1, hub.storageRequests().size());
    }

    @Test
    void picksTheQ4_0ByDefaultAndAFileByName() throws Exception {
        assertEquals(folder.resolve(Q4), pull(client(), REPO).file());
        ModelDownload.Result q8 = pull(client(), REPO + ":tiny-chat.Q8_0.gguf");
        assertEquals(HubStandIn.sha256(hub.repo(REPO).files.get("tiny-chat.Q8_0.gguf")),
                ModelDownload.sha256(q8.file()));
    }

    @Test
    void sendsTheTokenToTheHubOnlyNeverToTheStorageHost() throws Exception {
        pull(client("HF_TOKEN", "hf_secret"), REPO + ":Q4_0");
        assertTrue(hub.log.stream().filter(l -> l.startsWith("hub")).allMatch(l -> l.endsWith("auth=Bearer hf_secret")),
                hub.log.toString());
        assertTrue(hub.storageRequests().stream().allMatch(l -> l.endsWith("auth=null")), hub.log.toString());
    }

    @Test
    void resumesWithARangeAfterTheConnectionIsCutMidFile() throws Exception {
        hub.cutAfterBytes = model.length / 3;
        hub.cutsLeft = 1;
        ModelDownload.Result result = pull(client(), REPO + ":Q4_0");
        assertArrayEquals(model, Files.readAllBytes(result.file()));
        List<String> requests = hub.storageRequests();
        assertEquals(2, requests.size(), requests.toString());
        // the client keeps what reached it before the cut (the last bytes sent may be lost with the connection)
        long resumedAt = Long.parseLong(requests.get(1).replaceFirst(".*range=bytes=(\\d+)-.*", "$1"));
        assertTrue(resumedAt > 0 && resumedAt <= model.length / 3, requests.toString());
        assertEquals(model.length, result.bytesTransferred(), "no byte fetched twice");
    }

    @Test
    void resumesWhenTheStorageHostStopsSendingMidFile() throws Exception {
        hub.cutAfterBytes = model.length / 3;
        hub.cutsLeft = 1;
        hub.stallInsteadOfCut = true; // the connection stays open and silent: a read would wait forever
        GgufChoice choice = GgufChoice.parse(REPO + ":Q4_0");
        HubClient client = client();
        HubFile file = choice.pick(client.listFiles(choice.repo()));
        // the stand-in holds the silent connection for 60 s: well before, the watchdog has closed it
        ModelDownload.Result result = assertTimeoutPreemptively(Duration.ofSeconds(30), () ->
                new ModelDownload(client, new TransferProgress(null), Duration.ofSeconds(1))
                        .download(choice.repo(), file, folder));
        assertArrayEquals(model, Files.readAllBytes(result.file()));
        List<String> requests = hub.storageRequests();
        assertEquals(2, requests.size(), requests.toString());
        assertTrue(requests.get(1).contains("range=bytes="), requests.toString());
    }

    @Test
    void aLaterRunResumesWhatAnInterruptedRunLeft() throws Exception {
        hub.cutAfterBytes = model.length / 2;
        hub.cutsLeft = 1;
        hub.storageStatus = 503; // then the storage host fails: this run gives up
        HubException failed = assertThrows(HubException.class, () -> pull(client(), REPO + ":Q4_0"));
        assertTrue(failed.getMessage().contains("503") && failed.getMessage().contains("resumed"), failed.getMessage());
        assertFalse(Files.exists(folder.resolve(Q4)), "nothing unverified in place");
        Path partial = folderContents().getFirst();
        assertTrue(partial.getFileName().toString().startsWith("." + Q4) && partial.toString().endsWith(".part"));
        long kept = Files.size(partial);
        assertTrue(kept > 0 && kept <= model.length / 2, "kept " + kept);

        hub.storageStatus = 0;
        hub.log.clear();
        ModelDownload.Result result = pull(client(), REPO + ":Q4_0");
        assertArrayEquals(model, Files.readAllBytes(result.file()));
        assertEquals(List.of("storage GET /xet-bridge/" + HubStandIn.sha256(model) + " range=bytes=" + kept
                + "- auth=null"), hub.storageRequests());
        assertEquals(List.of(result.file()), folderContents());
    }

    @Test
    void startsOverWhenTheStorageHostIgnoresTheRange() throws Exception {
        hub.cutAfterBytes = 1000;
        hub.cutsLeft = 1;
        hub.ignoreRanges = true;
        ModelDownload.Result result = pull(client(), REPO + ":Q4_0");
        assertArrayEquals(model, Files.readAllBytes(result.file()));
    }

    @Test
    void deletesAFileWhoseHashIsWrong() throws Exception {
        byte[] corrupt = model.clone();
        corrupt[corrupt.length / 2] ^= 0x40;
        hub.corrupt.put(Q4, corrupt);
        HubException e = assertThrows(HubException.class, () -> pull(client(), REPO + ":Q4_0"));
        assertTrue(e.getMessage().contains("SHA-256") && e.getMessage().contains(HubStandIn.sha256(model))
                && e.getMessage().contains("deleted"), e.getMessage());
        assertEquals(List.of(), folderContents(), "neither the file nor a partial is kept");
    }

    @Test
    void namesTheQuantizationsARepositoryHas() throws Exception {
        HubException e = assertThrows(HubException.class, () -> pull(client(), REPO + ":Q5_K_M"));
        assertEquals(REPO + " has no Q5_K_M GGUF; its quantizations: Q4_0, Q8_0", e.getMessage());
    }

    @Test
    void saysWhenTheRepositoryDoesNotExistWithOrWithoutAToken() {
        HubException anonymous = assertThrows(HubException.class, () -> pull(client(), "nobody/Nothing-GGUF"));
        assertTrue(anonymous.getMessage().startsWith("no repository nobody/Nothing-GGUF at " + hub.endpoint() + " (401)"),
                anonymous.getMessage());
        HubException withToken = assertThrows(HubException.class,
                () -> pull(client("HF_TOKEN", "hf_x"), "nobody/Nothing-GGUF"));
        assertTrue(withToken.getMessage().startsWith("no repository nobody/Nothing-GGUF at " + hub.endpoint() + " (404)"),
                withToken.getMessage());
    }

    @Test
    void explainsGatedRepositories() throws Exception {
        HubStandIn.Repo repo = hub.repo(REPO);
        repo.gated = true;
        repo.grantedToken = "hf_granted";
        HubException noToken = assertThrows(HubException.class, () -> pull(client(), REPO + ":Q4_0"));
        assertTrue(noToken.getMessage().contains("is gated") && noToken.getMessage().contains("set HF_TOKEN"),
                noToken.getMessage());
        HubException wrongAccount = assertThrows(HubException.class,
                () -> pull(client("HF_TOKEN", "hf_other"), REPO + ":Q4_0"));
        assertTrue(wrongAccount.getMessage().contains("has no access yet: accept its licence at " + hub.endpoint() + "/" + REPO),
                wrongAccount.getMessage());
        assertArrayEquals(model, Files.readAllBytes(pull(client("HF_TOKEN", "hf_granted"), REPO + ":Q4_0").file()));
    }

    @Test
    void reportsAServerErrorAsOneLine() {
        hub.failListing = true;
        HubException e = assertThrows(HubException.class, () -> pull(client(), REPO));
        assertEquals(hub.endpoint() + " answered 500 for file listing: the hub has a problem; run pull again later "
                + "(what was downloaded is kept and resumed)", e.getMessage());
    }

    @Test
    void reportsNoNetwork() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        HubClient unreachable = HubClient.fromEnvironment(Map.of("HF_ENDPOINT", "http://127.0.0.1:" + closed));
        HubException e = assertThrows(HubException.class, () -> unreachable.listFiles(REPO));
        assertTrue(e.getMessage().startsWith("cannot reach http://127.0.0.1:" + closed), e.getMessage());
        HubClient unresolvable = HubClient.fromEnvironment(Map.of("HF_ENDPOINT", "http://hub.invalid"));
        HubException dns = assertThrows(HubException.class, () -> unresolvable.listFiles(REPO));
        assertTrue(dns.getMessage().startsWith("cannot reach http://hub.invalid"), dns.getMessage());
    }

    @Test
    void checksTheFreeSpaceBeforeDownloading() {
        hub.repo(REPO).listedSizes.put(Q4, 1L << 50); // a petabyte
        HubException e = assertThrows(HubException.class, () -> pull(client(), REPO + ":Q4_0"));
        assertTrue(e.getMessage().startsWith("not enough disk space in " + folder), e.getMessage());
        assertEquals(List.of(), hub.storageRequests(), "nothing was fetched");
    }

    @Test
    void followsTheListingAcrossPages() throws Exception {
        hub.repo(REPO).pageSize = 1;
        List<HubFile> files = client().listFiles(REPO);
        assertEquals(List.of("README.md", Q4, "tiny-chat.Q8_0.gguf"), files.stream().map(HubFile::path).toList());
        assertEquals(HubStandIn.sha256(model), files.get(1).sha256());
        assertEquals(null, files.getFirst().sha256(), "a file kept in Git has no published SHA-256");
    }

    @Test
    void goesThroughTheProxyTheEnvironmentNamesExceptForNoProxyHosts() throws Exception {
        // hub.invalid resolves nowhere: only the proxy (the stand-in itself) can answer for it
        HubClient proxied = HubClient.fromEnvironment(Map.of("HF_ENDPOINT", "http://hub.invalid:" + hub.hubPort(),
                "HTTP_PROXY", "http://127.0.0.1:" + hub.hubPort(), "NO_PROXY", "localhost,127.0.0.1"));
        GgufChoice choice = GgufChoice.parse(REPO + ":Q4_0");
        HubFile file = choice.pick(proxied.listFiles(REPO));
        ModelDownload.Result result = new ModelDownload(proxied, new TransferProgress(null)).download(REPO, file, folder);
        assertArrayEquals(model, Files.readAllBytes(result.file()));
        assertEquals(2, hub.proxied.size(), "listing and resolve through the proxy: " + hub.proxied);
        assertTrue(hub.proxied.stream().allMatch(u -> u.getHost().equals("hub.invalid")), hub.proxied.toString());
        assertEquals(1, hub.storageRequests().size(), "the storage host (in NO_PROXY) directly");
    }

    @Test
    void readsQuantizationsFromTheUsualFileNames() {
        assertEquals("Q4_0", GgufChoice.quantOf("tinyllama-1.1b-chat-v1.0.Q4_0.gguf").orElseThrow());
        assertEquals("Q4_K_M", GgufChoice.quantOf("qwen2.5-0.5b-instruct-q4_k_m.gguf").orElseThrow());
        assertEquals("Q8_0", GgufChoice.quantOf("Qwen3-0.6B-Q8_0.gguf").orElseThrow());
        assertEquals("Q4_0_4_8", GgufChoice.quantOf("Llama-3.2-1B-Instruct-Q4_0_4_8.gguf").orElseThrow());
        assertEquals("BF16", GgufChoice.quantOf("gemma-3-1b-it-BF16.gguf").orElseThrow());
        assertTrue(GgufChoice.quantOf("model.gguf").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> GgufChoice.parse("not a repo"));
        assertThrows(IllegalArgumentException.class, () -> GgufChoice.parse("a/b:fast"));
    }
}
