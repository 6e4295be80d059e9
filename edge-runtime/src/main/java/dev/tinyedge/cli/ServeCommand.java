package dev.tinyedge.cli;

import dev.tinyedge.broker.EmbeddedBroker;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.service.MqttDaemon;
import dev.tinyedge.service.ServeConfig;
import dev.tinyedge.translate.EngineTranslator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves translations over MQTT (protocol v1) until stopped (SIGTERM finishes the running request).",
                "With no broker configured, starts an embedded MQTT 5 broker on 127.0.0.1:1883."})
public final class ServeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);
    private static final String EMBEDDED = "embedded";

    @Option(names = "--config", paramLabel = "FILE", description = "TOML configuration (see docs/MQTT.md)")
    Path configFile;

    @Option(names = "--model", paramLabel = "MODEL", description = "GGUF model; overrides the config's model")
    Path model;

    @Option(names = "--broker", paramLabel = "URL|embedded",
            description = "broker URL (tcp://host:1883, ssl://host:8883) or 'embedded'; overrides the config")
    String broker;

    @Option(names = "--profile", paramLabel = "NAME|auto", description = "board profile; overrides the config")
    String profile;

    @Override
    public Integer call() throws Exception {
        ServeConfig config = configFile == null ? new ServeConfig() : ServeConfig.read(configFile);
        if (model != null) {
            config.model = model.toString();
        }
        if (broker != null) {
            config.mqtt.broker = broker;
        }
        if (profile != null) {
            config.profile = profile;
        }
        if (config.model == null) {
            throw new Main.UsageException("no model: pass --model MODEL or set model in the configuration");
        }
        try {
            config.validate();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException((configFile == null ? "" : configFile + ": ") + e.getMessage());
        }

        EmbeddedBroker embedded = null;
        String brokerUrl = config.mqtt.broker;
        if (EMBEDDED.equals(brokerUrl)) {
            embedded = EmbeddedBroker.find().orElseThrow(() -> new IllegalStateException(
                    "this build has no embedded broker: set a broker (--broker tcp://HOST:1883 or mqtt.broker in "
                            + "the configuration), or build it with 'mvn -DskipTests package -pl broker-embedded -am'"));
            Path dataDir = config.mqtt.embeddedDataDir != null ? Path.of(config.mqtt.embeddedDataDir)
                    : Path.of(System.getProperty("user.home"), ".tinyedge", "broker");
            embedded.start("127.0.0.1", config.mqtt.embeddedPort, dataDir);
            brokerUrl = "tcp://127.0.0.1:" + config.mqtt.embeddedPort;
            if (config.mqtt.receiveMaximum == 0) {
                config.mqtt.receiveMaximum = config.service.queueSize; // HiveMQ keeps to it
            }
            log.info("embedded MQTT 5 broker listening on {} (data in {})", brokerUrl, dataDir);
        }

        Path modelPath = Path.of(config.model);
        EngineTranslator translator;
        try {
            translator = EngineTranslator.load(modelPath,
                    new EngineOptions(config.context, config.threads, config.backend), config.service.prefixCache);
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(modelPath, e);
        }
        log.info("model {} ({} prompt format) on {}", translator.modelName(), translator.format(),
                translator.backendDescription());

        MqttDaemon daemon = new MqttDaemon(config, translator, brokerUrl, config.profile);
        CountDownLatch stopped = new CountDownLatch(1);
        EmbeddedBroker brokerToStop = embedded;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping: finishing the running request, leaving queued ones at the broker");
            try {
                daemon.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            translator.close();
            if (brokerToStop != null) {
                brokerToStop.close();
            }
            stopped.countDown();
        }, "shutdown"));
        daemon.start();
        stopped.await();
        return 0;
    }
}
