package dev.tinyedge.catalog;

import dev.tinyedge.board.Profile;
import dev.tinyedge.board.ProfileCatalog;
import dev.tinyedge.hub.GgufChoice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCatalogTest {
    private final ModelCatalog catalog = ModelCatalog.load();
    private final List<Profile> boards = ProfileCatalog.load(List.of()).all();

    @Test
    void holdsTheTenModelsOfTheIssueWithLicencesAndSources() {
        assertEquals(List.of("tinyllama-1.1b-chat", "eurollm-1.7b-instruct", "salamandrata-2b", "qwen2.5-0.5b-instruct",
                        "qwen2.5-1.5b-instruct", "qwen3-0.6b", "qwen3-1.7b", "llama-3.2-1b-instruct", "gemma-3-270m-it",
                        "gemma-3-1b-it"),
                catalog.entries().stream().map(CatalogEntry::name).toList());
        for (CatalogEntry e : catalog.entries()) {
            assertTrue(e.source().contains("huggingface.co/"), e.name());
            assertFalse(e.languages().isEmpty(), e.name());
            e.files().forEach((quant, file) -> {
                assertEquals(quant, GgufChoice.quantOf(file.file()).orElseThrow(), "file names carry their quantization: "
                        + file.file());
                assertTrue(file.sizeMb() > 0, file.file());
            });
        }
        assertTrue(catalog.find("gemma-3-1b-it").orElseThrow().restrictions().contains("Prohibited Use Policy"));
        assertTrue(catalog.find("llama-3.2-1b-instruct").orElseThrow().restrictions().contains("700 million"));
        assertTrue(catalog.find("TinyLlama-1.1B-Chat").isPresent(), "names are case-insensitive");
    }

    /**
     * TinyLlama Q4_0 (638 MB of weights, 92 MB of f32 KV cache at 2048 tokens, the JVM) needs about 1 GB: over
     * the 1 GB Pi 4's 760 MB budget, under the 2 GB one's 1500 MB. Qwen3-1.7B's 1.83 GB file needs a 4 GB board.
     */
    @Test
    void plansTheSmallestBoardEachModelFits() {
        CatalogEntry tiny = catalog.find("tinyllama-1.1b-chat").orElseThrow();
        assertEquals("raspberry-pi-4-2gb", ModelCatalog.smallestBoard(tiny, "Q4_0", boards).orElseThrow().name());
        CatalogEntry qwen = catalog.find("qwen3-1.7b").orElseThrow();
        assertEquals(3200, ModelCatalog.smallestBoard(qwen, "Q8_0", boards).orElseThrow().memory().budgetMb());
        for (CatalogEntry e : catalog.entries()) {
            assertTrue(ModelCatalog.smallestBoard(e, e.defaultQuant(), boards).isPresent(), e.name() + " fits some board");
        }
    }

    @Test
    void resolvesCatalogNamesToPulledFiles(@TempDir Path folder) throws Exception {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ModelsFolder.resolve("tinyllama-1.1b-chat", catalog, folder));
        assertTrue(missing.getMessage().contains("tinyedge pull tinyllama-1.1b-chat"), missing.getMessage());

        Path q8 = Files.createFile(folder.resolve("tinyllama-1.1b-chat-v1.0.Q8_0.gguf"));
        assertEquals(q8, ModelsFolder.resolve("tinyllama-1.1b-chat", catalog, folder), "any pulled file of the model");
        Path q4 = Files.createFile(folder.resolve("tinyllama-1.1b-chat-v1.0.Q4_0.gguf"));
        assertEquals(q4, ModelsFolder.resolve("tinyllama-1.1b-chat", catalog, folder), "the default quantization first");
        assertEquals(q8, ModelsFolder.resolve("tinyllama-1.1b-chat:q8_0", catalog, folder));
        assertThrows(IllegalArgumentException.class, () -> ModelsFolder.resolve("tinyllama-1.1b-chat:Q2_K", catalog, folder));
        assertEquals(Path.of("some/model.gguf"), ModelsFolder.resolve("some/model.gguf", catalog, folder),
                "a path stays a path");
    }
}
