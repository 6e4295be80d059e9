package dev.tinyedge.catalog;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where pulled models live (CONTRACTS §3): {@code /var/lib/tinyedge/models} for the service's own user,
 * {@code ~/.tinyedge/models} for anyone else, or {@code $TINYEDGE_MODELS}; and how a model argument is read:
 * a file path, or a catalog name pulled into that folder.
 */
public final class ModelsFolder {
    public static final Path SERVICE_FOLDER = Path.of("/var/lib/tinyedge/models");
    private static final String SERVICE_USER = "tinyedge";

    private ModelsFolder() {
    }

    public static Path of(Map<String, String> env) {
        String override = env.get("TINYEDGE_MODELS");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        if (SERVICE_USER.equals(System.getProperty("user.name"))) {
            return SERVICE_FOLDER;
        }
        return Path.of(System.getProperty("user.home"), ".tinyedge", "models");
    }

    /**
     * The file {@code model} means: an existing path as it is; else a catalog name ({@code NAME} or
     * {@code NAME:QUANT}) whose file is in {@code folder}; else the path as given, for the loader to report.
     *
     * @throws IllegalArgumentException for a catalog name that was not pulled, or a quantization it has not
     */
    public static Path resolve(String model, ModelCatalog catalog, Path folder) {
        Path given = Path.of(model);
        if (Files.exists(given) || model.contains("/") || model.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) {
            return given;
        }
        int colon = model.indexOf(':');
        String name = colon < 0 ? model : model.substring(0, colon);
        Optional<CatalogEntry> entry = catalog.find(name);
        if (entry.isEmpty()) {
            return given;
        }
        CatalogEntry e = entry.get();
        String quant = colon < 0 ? null : model.substring(colon + 1).toUpperCase(java.util.Locale.ROOT);
        if (quant != null && e.file(quant) == null) {
            throw new IllegalArgumentException("the catalog has no " + quant + " file of " + e.name() + "; it lists "
                    + String.join(", ", e.files().keySet()));
        }
        // the named quantization, else the default, else any of the entry's files that was pulled
        for (String q : quant != null ? java.util.List.of(quant)
                : java.util.stream.Stream.concat(java.util.stream.Stream.of(e.defaultQuant()),
                        e.files().keySet().stream().sorted()).toList()) {
            Path file = folder.resolve(e.file(q).file());
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new IllegalArgumentException(e.name() + " is not in " + folder + " yet: run 'tinyedge pull " + model
                + "' first (or give --model a .gguf file)");
    }
}
