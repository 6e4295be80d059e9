package dev.tinyedge.cli;

import dev.tinyedge.board.BoardFacts;
import dev.tinyedge.board.MemoryPlan;
import dev.tinyedge.board.MemoryPlanner;
import dev.tinyedge.board.ModelShape;
import dev.tinyedge.board.Profile;
import dev.tinyedge.board.ProfileCatalog;
import dev.tinyedge.board.ProfileException;
import dev.tinyedge.board.StatusLight;
import dev.tinyedge.board.SystemdNotifier;
import dev.tinyedge.board.ThermalGuard;
import dev.tinyedge.broker.EmbeddedBroker;
import dev.tinyedge.catalog.ModelCatalog;
import dev.tinyedge.catalog.ModelsFolder;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.metrics.DaemonMetrics;
import dev.tinyedge.metrics.RequestObserver;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.quantize.QuantMix;
import dev.tinyedge.service.BoardSignals;
import dev.tinyedge.service.MqttDaemon;
import dev.tinyedge.service.ServeConfig;
import dev.tinyedge.tokenizer.SynthVocabulary;
import dev.tinyedge.translate.EngineTranslator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves translations over MQTT (protocol v1) until stopped (SIGTERM finishes the running request).",
                "With no broker configured, starts an embedded MQTT 5 broker on 127.0.0.1:1883.",
                "With no model, serves a small random-weight model: its output is not a translation."})
public final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);
    private static final String EMBEDDED = "embedded";
    /** Where a user's own daemon keeps its state: the embedded broker's sessions, the synthesized model. */
    private static final Path STATE_DIR = Path.of(System.getProperty("user.home"), ".tinyedge");
    /** The OpenCL backend picks its device by this property; a board profile's {@code compute.opencl_device} sets it. */
    private static final String OPENCL_DEVICE = "tinyedge.opencl.device";

    @Option(names = "--config", paramLabel = "FILE", description = "TOML configuration (see docs/MQTT.md)")
    Path configFile;

    @Option(names = "--model", paramLabel = "MODEL",
            description = "GGUF model file, or a catalog name pulled with 'tinyedge pull'; overrides the config's model")
    String model;

    @Option(names = "--broker", paramLabel = "URL|embedded",
            description = "broker URL (tcp://host:1883, ssl://host:8883) or 'embedded'; overrides the config")
    String broker;

    @Option(names = "--profile", paramLabel = "NAME|auto", description = "board profile; overrides the config")
    String profile;

    @Override
    public Integer call() throws Exception {
        ServeConfig config = configFile == null ? new ServeConfig() : ServeConfig.read(configFile);
        if (model != null) {
            config.model = model;
        }
        if (broker != null) {
            config.mqtt.broker = broker;
        }
        if (profile != null) {
            config.profile = profile;
        }
        try {
            config.validate();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException((configFile == null ? "" : configFile + ": ") + e.getMessage());
        }

        BoardFacts facts = BoardFacts.ofThisMachine();
        ProfileCatalog catalog = ProfileCatalog.load();
        Profile board;
        try {
            board = catalog.select(config.profile, facts);
        } catch (ProfileException e) {
            throw new Main.UsageException(e.getMessage());
        }
        if (config.service.queueSize == 0) {
            config.service.queueSize = board.service().queueLength();
        }
        Path modelPath = config.model != null
                ? ModelsFolder.resolve(config.model, ModelCatalog.load(), ModelsFolder.of(System.getenv()))
                : syntheticModel();
        EmbeddedBroker embedded = null;
        String brokerUrl = config.mqtt.broker;
        if (EMBEDDED.equals(brokerUrl)) {
            embedded = EmbeddedBroker.find().orElseThrow(() -> new IllegalStateException(
                    "this build has no embedded broker: set a broker (--broker tcp://HOST:1883 or mqtt.broker in "
                            + "the configuration), or build it with 'mvn -DskipTests package -pl broker-embedded -am'"));
            Path dataDir = config.mqtt.embeddedDataDir != null ? Path.of(config.mqtt.embeddedDataDir)
                    : STATE_DIR.resolve("broker");
            embedded.start("127.0.0.1", config.mqtt.embeddedPort, dataDir);
            brokerUrl = "tcp://127.0.0.1:" + config.mqtt.embeddedPort;
            if (config.mqtt.receiveMaximum == 0) {
                config.mqtt.receiveMaximum = config.service.queueSize; // HiveMQ keeps to it
            }
            log.info("embedded MQTT 5 broker listening on {} (data in {})", brokerUrl, dataDir);
        }

        int threads = config.threads > 0 ? config.threads : board.compute().threadsFor(facts.cpus());
        ThermalGuard thermal = ThermalGuard.forThisMachine(board, threads);
        DaemonMetrics metrics = config.metrics.listen == null ? null : DaemonMetrics.start(config.metrics.listen, thermal);
        if (metrics != null) {
            log.info("metrics on http://{}/metrics", config.metrics.listen);
        }
        MqttDaemon daemon = new MqttDaemon(config, brokerUrl, board.name());
        StatusLight light = StatusLight.open(board.gpio(), () -> {
            if (daemon.cancelRunning()) {
                log.info("cancel button: the running request is cancelled");
            }
        });
        AtomicReference<EngineTranslator> loaded = new AtomicReference<>();
        SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
        CountDownLatch stopped = new CountDownLatch(1);
        EmbeddedBroker brokerToStop = embedded;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (loaded.get() != null) {
                log.info("stopping: finishing the running request, leaving queued ones at the broker");
            }
            systemd.stopping();
            try {
                daemon.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (loaded.get() != null) {
                loaded.get().close();
            }
            if (brokerToStop != null) {
                brokerToStop.close();
            }
            light.close();
            if (metrics != null) {
                metrics.state("offline");
                metrics.close();
            }
            systemd.close();
            stopped.countDown();
        }, "shutdown"));

        // connected first, so that the node's status says 'loading' while the model loads, or 'error' if it cannot
        daemon.connect();
        EngineTranslator translator;
        try {
            translator = load(config, catalog, board, facts, modelPath, threads);
        } catch (RuntimeException | IOException e) {
            daemon.fail(Main.describe(e));
            light.show(StatusLight.Signal.ERROR);
            if (metrics != null) {
                metrics.state("error");
            }
            throw e;
        }
        loaded.set(translator);
        daemon.serve(translator, new BoardSignals(thermal, light, translator::limitThreads),
                metrics != null ? metrics : RequestObserver.NONE);
        if (metrics != null) {
            metrics.state("online");
        }
        light.show(StatusLight.Signal.READY);
        systemd.ready();
        systemd.status("serving " + translator.modelName() + " on " + translator.backendDescription());
        systemd.startWatchdog(daemon::healthy);
        stopped.await();
        return 0;
    }

    /** Plans the memory for the model on this board and loads it; a model file it cannot read is one line. */
    private static EngineTranslator load(ServeConfig config, ProfileCatalog catalog, Profile board, BoardFacts facts,
                                         Path modelPath, int threads) throws IOException {
        String backend = config.backend != null ? config.backend : board.compute().backend();
        int parallel = parallel(config, board, backend);
        MemoryPlan plan;
        try (GgufFile gguf = GgufFile.open(modelPath)) {
            MemoryPlanner planner = new MemoryPlanner(catalog.all());
            ModelShape shape = ModelShape.of(gguf);
            plan = planner.plan(shape, board, config.context, facts.memAvailableBytes(), parallel);
            long heap = Runtime.getRuntime().maxMemory();
            // the profile's number is a ceiling: lowered to what fits the memory and the heap
            while (config.service.parallel == 0 && plan.parallel() > 1 && (!plan.fits() || plan.heapBytes() > heap)) {
                plan = planner.plan(shape, board, config.context, facts.memAvailableBytes(), plan.parallel() - 1);
            }
            if (plan.parallel() < parallel) {
                log.info("{} requests at once (the profile's {} do not fit this memory)", plan.parallel(), parallel);
            }
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(modelPath, e);
        }
        log.info("memory plan: {}", plan.verdict());
        plan.requireFits();
        plan.requireHeap(Runtime.getRuntime().maxMemory());

        String device = board.compute().openclDevice();
        if (backend.equals("opencl") && !device.isBlank() && System.getProperty(OPENCL_DEVICE) == null) {
            System.setProperty(OPENCL_DEVICE, device); // the OpenCL backend's device selector
        }
        EngineTranslator translator;
        try {
            translator = EngineTranslator.load(modelPath, new EngineOptions(plan.contextLength(), threads, backend,
                    plan.parallel(), plan.kvCacheType()), config.service.prefixCache);
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(modelPath, e);
        }
        log.info("model {} ({} prompt format) on {}, {} at once", translator.modelName(), translator.format(),
                translator.backendDescription(), translator.parallel() == 1 ? "one request" : translator.parallel() + " requests");
        return translator;
    }

    /**
     * Requests translated at once: the configuration's, else the board profile's. The OpenCL backend keeps one
     * KV-cache slot, so it translates one at a time whatever is asked, and says so.
     */
    private static int parallel(ServeConfig config, Profile board, String backend) {
        int asked = config.service.parallel > 0 ? config.service.parallel : board.service().parallelOrDefault();
        if (!backend.equals("cpu") && asked > 1) {
            log.info("the {} backend keeps one KV-cache slot: one request at a time, not the {} of {}", backend, asked,
                    config.service.parallel > 0 ? "service.parallel" : "profile " + board.name());
            return 1;
        }
        return asked;
    }

    /**
     * The model served when none is named: TinyLlama's architecture at a toy size with random weights, written
     * once. It exercises the whole daemon, but what it generates is noise, and the log says so.
     */
    private static Path syntheticModel() throws IOException {
        Path file = STATE_DIR.resolve("synthetic-tiny-q4_0.gguf");
        if (!Files.exists(file)) {
            Files.createDirectories(STATE_DIR);
            GgufWriter writer = SyntheticModel.writer(SyntheticModel.preset("tiny"), QuantMix.Q4_0, true, 0);
            SynthVocabulary.load().writeTo(writer);
            writer.write(file);
        }
        log.warn("no model given: serving {}, a tiny model with RANDOM weights. Its replies are noise, NOT "
                + "translations. Pass --model MODEL.gguf (e.g. TinyLlama-1.1B-Chat Q4_0) to translate.", file);
        return file;
    }
}
