package dev.tinyedge.cli;

import dev.tinyedge.catalog.CatalogEntry;
import dev.tinyedge.catalog.ModelCatalog;
import dev.tinyedge.catalog.ModelsFolder;
import dev.tinyedge.hub.GgufChoice;
import dev.tinyedge.hub.HubClient;
import dev.tinyedge.hub.HubException;
import dev.tinyedge.hub.HubFile;
import dev.tinyedge.hub.ModelDownload;
import dev.tinyedge.hub.TransferProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Downloads a GGUF model from Hugging Face into the models folder: a catalog NAME[:QUANT] "
                + "(tinyedge models --catalog), or REPO[:QUANT|:FILE.gguf].",
                "Resumes an interrupted download, checks the SHA-256 the hub publishes, and renames the file into "
                        + "place only then.",
                "Environment: HF_ENDPOINT (default " + HubClient.DEFAULT_ENDPOINT + "), HF_TOKEN for gated or private "
                        + "repositories, HTTPS_PROXY / NO_PROXY, TINYEDGE_MODELS (the folder)."})
final class PullCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(PullCommand.class);

    @Parameters(paramLabel = "MODEL", description = "NAME[:QUANT], or REPO[:QUANT|:FILE.gguf] "
            + "(e.g. TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF:Q4_0)")
    String model;

    @Option(names = "--dir", paramLabel = "DIR", description = "download into DIR instead of the models folder")
    Path dir;

    @Override
    public Integer call() throws IOException {
        Path folder = dir != null ? dir : ModelsFolder.of(System.getenv());
        HubClient hub = HubClient.fromEnvironment(System.getenv());
        ModelCatalog catalog = ModelCatalog.load();
        String name = model.contains(":") ? model.substring(0, model.indexOf(':')) : model;
        Optional<CatalogEntry> entry = catalog.find(name);
        GgufChoice choice;
        String catalogFile = null;
        if (entry.isPresent()) {
            CatalogEntry e = entry.get();
            String quant = model.contains(":") ? model.substring(model.indexOf(':') + 1).toUpperCase(Locale.ROOT)
                    : e.defaultQuant();
            if (e.file(quant) == null) {
                throw new Main.UsageException("the catalog has no " + quant + " file of " + e.name() + "; it lists "
                        + String.join(", ", e.files().keySet()) + " (or pull " + e.repo() + ":" + quant + ")");
            }
            choice = new GgufChoice(e.repo(), quant, null);
            catalogFile = e.file(quant).file();
        } else {
            try {
                choice = GgufChoice.parse(model);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException(e.getMessage());
            }
        }
        List<HubFile> files = hub.listFiles(choice.repo());
        HubFile file = pick(choice, catalogFile, files);
        log.info("{}: {} ({} MB) from {}", choice.repo(), file.path(), file.size() / 1_000_000, hub.endpoint());
        ModelDownload.Result result = new ModelDownload(hub, TransferProgress.forConsole())
                .download(choice.repo(), file, folder);
        log.info(result.alreadyPresent() ? "{} is already there, SHA-256 verified" : "{}: SHA-256 verified",
                result.file());
        System.out.println(result.file());
        return 0;
    }

    /** The catalog's file if the repository still has it; else the one the quantization names, saying so. */
    private static HubFile pick(GgufChoice choice, String catalogFile, List<HubFile> files) throws HubException {
        if (catalogFile != null) {
            Optional<HubFile> listed = files.stream().filter(f -> f.path().equals(catalogFile)).findFirst();
            if (listed.isPresent()) {
                return listed.get();
            }
            HubFile instead = choice.pick(files);
            log.warn("{} has no {} any more; pulling {} instead: serve it with --model {}", choice.repo(), catalogFile,
                    instead.path(), instead.fileName());
            return instead;
        }
        return choice.pick(files);
    }
}
