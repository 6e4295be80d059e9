package dev.tinyedge.catalog;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.tinyedge.board.MemoryPlan;
import dev.tinyedge.board.MemoryPlanner;
import dev.tinyedge.board.Profile;
import dev.tinyedge.model.ModelConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The translation models tinyedge knows by name, read from {@code models.toml} on the class path. What is
 * computed rather than written down: whether this build runs a model (the model loader is asked about its
 * architecture) and the smallest board it fits (the memory planner plans it on every board profile).
 */
public final class ModelCatalog {
    /** The context length the catalog's board column is planned for. */
    public static final int DEFAULT_CONTEXT = 2048;
    private static final String RESOURCE = "/dev/tinyedge/catalog/models.toml";

    private final List<CatalogEntry> entries;

    private record File(List<CatalogEntry> models) {
    }

    ModelCatalog(List<CatalogEntry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static ModelCatalog load() {
        TomlMapper toml = TomlMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
        try (InputStream in = ModelCatalog.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the model catalog " + RESOURCE + " is missing from the class path");
            }
            ModelCatalog catalog = new ModelCatalog(toml.readValue(in, File.class).models());
            catalog.validate();
            return catalog;
        } catch (IOException e) {
            throw new UncheckedIOException("the model catalog " + RESOURCE + " cannot be read: " + e.getMessage(), e);
        }
    }

    public List<CatalogEntry> entries() {
        return entries;
    }

    /** The entry {@code name} names, case-insensitively. */
    public Optional<CatalogEntry> find(String name) {
        return entries.stream().filter(e -> e.name().equalsIgnoreCase(name)).findFirst();
    }

    /** The entry one of whose files is called {@code fileName}. */
    public Optional<CatalogEntry> byFile(String fileName) {
        return entries.stream()
                .filter(e -> e.files().values().stream().anyMatch(f -> f.file().equals(fileName)))
                .findFirst();
    }

    /**
     * The board profile with the least memory that the planner says holds the entry's file of {@code quant} at
     * {@link #DEFAULT_CONTEXT} tokens (or the model's own context, if shorter) translating one request at a time
     * (the daemon lowers a profile's {@code parallel} to what fits); empty if none does. Only real boards count,
     * not the generic fallback profiles.
     */
    public static Optional<Profile> smallestBoard(CatalogEntry entry, String quant, List<Profile> profiles) {
        MemoryPlanner planner = new MemoryPlanner(profiles);
        int context = Math.min(DEFAULT_CONTEXT, entry.shape().context());
        return profiles.stream()
                .filter(p -> !p.match().models().isEmpty())
                .filter(p -> {
                    MemoryPlan plan = planner.plan(entry.modelShape(quant), p, context, -1, 1);
                    return plan.fits();
                })
                .min(Comparator.comparingLong((Profile p) -> p.memory().budgetMb()).thenComparing(Profile::name));
    }

    private void validate() {
        for (CatalogEntry e : entries) {
            require(e.name() != null && e.repo() != null && e.architecture() != null, e, "name, repo, architecture");
            require(ModelConfig.supports(e.architecture()), e, "an architecture the model loader runs");
            require(e.files() != null && e.files().containsKey(e.defaultQuant()), e, "a file for default_quant");
            require(e.shape() != null && e.parameters() > 0, e, "shape and parameters");
            require(e.licence() != null && e.restrictions() != null && e.source() != null, e,
                    "licence, restrictions, source");
            e.files().keySet().forEach(CatalogEntry::mainType);
        }
        require(entries.stream().map(e -> e.name().toLowerCase(java.util.Locale.ROOT)).distinct().count()
                == entries.size(), null, "unique names");
    }

    private static void require(boolean condition, CatalogEntry entry, String what) {
        if (!condition) {
            throw new IllegalStateException("model catalog: " + (entry == null ? "" : entry.name() + " ") + "needs " + what);
        }
    }
}
