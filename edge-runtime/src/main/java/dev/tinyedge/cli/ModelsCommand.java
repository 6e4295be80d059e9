package dev.tinyedge.cli;

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

    private int listFolder() throws IOException {
        Path folder = dir != null ? dir : ModelsFolder.of(System.getenv());
        ModelCatalog names = ModelCatalog.load();
        List<Map<String, Object>> rows = new ArrayList<>();
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
            Map<String, Object> document = new LinkedHashMap<>();
            document.put("folder", folder.toString());
            document.put("models", rows);
            Json.print(document);
            return 0;
        }
        if (rows.isEmpty()) {
            out.println("no models in " + folder + ": tinyedge pull NAME (tinyedge models --catalog lists the names)");
            return 0;
        }
        out.println("models in " + folder);
        out.printf("%-44s %8s  %-8s %-7s %-5s %s%n", "file", "MB", "family", "quant", "runs", "memory plan");
        for (Map<String, Object> row : rows) {
            if (row.containsKey("error")) {
                out.printf("%-44s %8d  %s%n", row.get("file"), (long) row.get("size_bytes") / 1_000_000,
                        "unreadable: " + row.get("error"));
                continue;
            }
            out.printf("%-44s %8d  %-8s %-7s %-5s %s%n", row.get("file"), (long) row.get("size_bytes") / 1_000_000,
                    row.get("family"), row.get("quant"), (boolean) row.get("runs") ? "yes" : "no", row.get("verdict"));
        }
        return 0;
    }

    private Map<String, Object> describe(Path file, ModelCatalog names) throws IOException {
        Map<String, Object> row = new LinkedHashMap<>();
        String fileName = file.getFileName().toString();
        row.put("file", fileName);
        row.put("size_bytes", Files.size(file));
        names.byFile(fileName).ifPresent(e -> row.put("catalog_name", e.name()));
        try (GgufFile gguf = GgufFile.open(file)) {
            String family = gguf.getString("general.architecture", null);
            row.put("family", family);
            row.put("quant", GgufChoice.quantOf(fileName).orElse("?"));
            row.put("runs", family != null && ModelConfig.supports(family));
            MemoryPlan plan = MemoryPlanner.planFor(gguf, profile, 0);
            row.put("profile", plan.profile());
            row.put("context", plan.contextLength());
            row.put("fits", plan.fits());
            row.put("needs_bytes", plan.totalBytes());
            row.put("verdict", plan.verdict());
        } catch (GgufFormatException e) {
            row.put("error", e.getMessage());
        } catch (ProfileException e) {
            throw new Main.UsageException(e.getMessage());
        }
        return row;
    }

    private int listCatalog() {
        ModelCatalog models = ModelCatalog.load();
        List<Profile> profiles = ProfileCatalog.load().all();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (CatalogEntry e : models.entries()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", e.name());
            row.put("repo", e.repo());
            row.put("family", e.architecture());
            row.put("runs", ModelCatalog.runs(e));
            row.put("default_quant", e.defaultQuant());
            Map<String, Object> files = new LinkedHashMap<>();
            e.files().forEach((quant, f) -> {
                Map<String, Object> file = new LinkedHashMap<>();
                file.put("file", f.file());
                file.put("size_mb", f.sizeMb());
                file.put("smallest_board", ModelCatalog.smallestBoard(e, quant, profiles).map(Profile::name).orElse(null));
                files.put(quant, file);
            });
            row.put("files", files);
            row.put("parameters", e.parameters());
            row.put("languages", e.languages());
            row.put("licence", e.licence());
            row.put("restrictions", e.restrictions());
            row.put("prompt", e.prompt());
            row.put("source", e.source());
            row.put("unverified", e.unverified());
            rows.add(row);
        }
        if (json) {
            Json.print(Map.of("context", ModelCatalog.DEFAULT_CONTEXT, "models", rows));
            return 0;
        }
        out.printf("%-24s %-7s %-7s %-7s %6s  %-20s %s%n", "name", "family", "runs", "quant", "MB",
                "smallest board", "licence");
        for (CatalogEntry e : models.entries()) {
            Optional<Profile> board = ModelCatalog.smallestBoard(e, e.defaultQuant(), profiles);
            out.printf("%-24s %-7s %-7s %-7s %6d  %-20s %s%n", e.name(), e.architecture(),
                    ModelCatalog.runs(e) ? "yes" : "not yet", e.defaultQuant(), e.file(e.defaultQuant()).sizeMb(),
                    board.map(Profile::name).orElse("none"), e.licence());
        }
        out.println("boards planned at " + ModelCatalog.DEFAULT_CONTEXT + " tokens of context; pull one with "
                + "'tinyedge pull NAME' (NAME:QUANT for another file); licences and sources: --json");
        return 0;
    }
}
