package dev.tinyedge.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.tinyedge.board.MemoryPlan;
import dev.tinyedge.board.MemoryPlanner;
import dev.tinyedge.board.Profile;
import dev.tinyedge.board.ProfileCatalog;
import dev.tinyedge.board.ProfileException;
import dev.tinyedge.catalog.CatalogEntry;
import dev.tinyedge.catalog.ModelCatalog;
import dev.tinyedge.catalog.ModelsFolder;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.hub.GgufChoice;
import dev.tinyedge.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "models", mixinStandardHelpOptions = true,
        description = {"Lists the models in the models folder: size, family, quantization, whether this build runs "
                + "it and whether it fits this board (the memory planner).",
                "With --catalog: the models tinyedge knows by name, with licence, languages and the smallest board "
                        + "each fits at " + ModelCatalog.DEFAULT_CONTEXT + " tokens of context."})
final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--json", description = "print one JSON document")
    boolean json;

    @Option(names = "--catalog", description = "list the catalog instead of the models folder")
    boolean catalog;

    @Option(names = "--dir", paramLabel = "DIR", description = "the models folder (default: $TINYEDGE_MODELS, "
            + "/var/lib/tinyedge/models for the service user, else ~/.tinyedge/models)")
    Path dir;

    @Option(names = "--profile", paramLabel = "P", description = "plan for this board profile (default: this board)")
    String profile;

    private final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    @Override
    public Integer call() throws IOException {
        return catalog ? listCatalog() : listFolder();
    }

    /** A GGUF file of the models folder; what could not be read of it is {@code error} (null fields are left out). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record LocalModel(String file, long sizeBytes, String catalogName, String family, String quant, Boolean runs,
                      String profile, Integer context, Boolean fits, Long needsBytes, String verdict, String error) {
    }

    record FolderListing(String folder, List<LocalModel> models) {
    }

    private int listFolder() throws IOException {
        Path folder = dir != null ? dir : ModelsFolder.of(System.getenv());
        ModelCatalog names = ModelCatalog.load();
        List<LocalModel> rows = new ArrayList<>();
        if (Files.isDirectory(folder)) {
            List<Path> files;
            try (Stream<Path> list = Files.list(folder)) {
                files = list.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf"))
                        .filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
            }
            for (Path file : files) {
                rows.add(describe(file, names));
            }
        }
        if (json) {
            Json.print(new FolderListing(folder.toString(), rows));
            return 0;
        }
        if (rows.isEmpty()) {
            out.println("no models in " + folder + ": tinyedge pull NAME (tinyedge models --catalog lists the names)");
            return 0;
        }
        out.println("models in " + folder);
        out.printf("%-44s %8s  %-8s %-7s %-5s %s%n", "file", "MB", "family", "quant", "runs", "memory plan");
        for (LocalModel row : rows) {
            if (row.error() != null) {
                out.printf("%-44s %8d  %s%n", row.file(), row.sizeBytes() / 1_000_000, "cannot run: " + row.error());
                continue;
            }
            out.printf("%-44s %8d  %-8s %-7s %-5s %s%n", row.file(), row.sizeBytes() / 1_000_000, row.family(),
                    row.quant(), row.runs() ? "yes" : "no", row.verdict());
        }
        return 0;
    }

    /** One file's row; a file that cannot be read or run is listed with why, not a reason to stop the listing. */
    private LocalModel describe(Path file, ModelCatalog names) {
        String fileName = file.getFileName().toString();
        long size = file.toFile().length();
        String catalogName = names.byFile(fileName).map(CatalogEntry::name).orElse(null);
        try (GgufFile gguf = GgufFile.open(file)) {
            String family = gguf.getString("general.architecture", null);
            MemoryPlan plan = MemoryPlanner.planFor(gguf, profile, 0);
            return new LocalModel(fileName, size, catalogName, family, GgufChoice.quantOf(fileName).orElse("?"),
                    family != null && ModelConfig.supports(family), plan.profile(), plan.contextLength(), plan.fits(),
                    plan.totalBytes(), plan.verdict(), null);
        } catch (GgufFormatException | IOException e) {
            return new LocalModel(fileName, size, catalogName, null, null, null, null, null, null, null, null,
                    e.getMessage());
        } catch (ProfileException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record CatalogFile(String file, long sizeMb, String smallestBoard) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record CatalogModel(String name, String repo, String family, String defaultQuant,
                        Map<String, CatalogFile> files, long parameters, List<String> languages, String licence,
                        String restrictions, String prompt, String source, String unverified) {
    }

    record CatalogListing(int context, List<CatalogModel> models) {
    }

    private int listCatalog() {
        ModelCatalog models = ModelCatalog.load();
        List<Profile> profiles = ProfileCatalog.load().all();
        List<CatalogModel> rows = new ArrayList<>();
        for (CatalogEntry e : models.entries()) {
            Map<String, CatalogFile> files = new LinkedHashMap<>();
            e.files().forEach((quant, f) -> files.put(quant, new CatalogFile(f.file(), f.sizeMb(),
                    ModelCatalog.smallestBoard(e, quant, profiles).map(Profile::name).orElse(null))));
            rows.add(new CatalogModel(e.name(), e.repo(), e.architecture(), e.defaultQuant(), files,
                    e.parameters(), e.languages(), e.licence(), e.restrictions(), e.prompt(), e.source(), e.unverified()));
        }
        if (json) {
            Json.print(new CatalogListing(ModelCatalog.DEFAULT_CONTEXT, rows));
            return 0;
        }
        out.printf("%-24s %-7s %-7s %6s  %-20s %s%n", "name", "family", "quant", "MB", "smallest board", "licence");
        for (CatalogEntry e : models.entries()) {
            Optional<Profile> board = ModelCatalog.smallestBoard(e, e.defaultQuant(), profiles);
            out.printf("%-24s %-7s %-7s %6d  %-20s %s%n", e.name(), e.architecture(), e.defaultQuant(),
                    e.file(e.defaultQuant()).sizeMb(), board.map(Profile::name).orElse("none"), e.licence());
        }
        out.println("boards planned at " + ModelCatalog.DEFAULT_CONTEXT + " tokens of context; pull one with "
                + "'tinyedge pull NAME' (NAME:QUANT for another file); licences and sources: --json");
        return 0;
    }
}
