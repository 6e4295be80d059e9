package dev.tinyedge.broker.hivemq;

import com.hivemq.embedded.EmbeddedHiveMQ;
import dev.tinyedge.broker.EmbeddedBroker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;

/**
 * HiveMQ Community Edition, embedded. HiveMQ reads its listener from {@code conf/config.xml}, so one is
 * written into the data folder on every start: a TCP listener on the requested address, and HiveMQ's
 * anonymous usage statistics off (a board running offline must not try to phone home), and a logback.xml
 * that keeps HiveMQ's log on stderr.
 */
public final class HiveMqBroker implements EmbeddedBroker {
    private EmbeddedHiveMQ hiveMq;

    @Override
    public void start(String host, int port, Path dataDir) throws IOException {
        Path conf = Files.createDirectories(dataDir.resolve("conf"));
        Path data = Files.createDirectories(dataDir.resolve("data"));
        Path extensions = Files.createDirectories(dataDir.resolve("extensions"));
        Files.writeString(conf.resolve("config.xml"), """
                <?xml version="1.0"?>
                <hivemq>
                    <listeners>
                        <tcp-listener>
                            <port>%d</port>
                            <bind-address>%s</bind-address>
                        </tcp-listener>
                    </listeners>
                    <anonymous-usage-statistics>
                        <enabled>false</enabled>
                    </anonymous-usage-statistics>
                </hivemq>
                """.formatted(port, host));
        // HiveMQ reconfigures logback from conf/logback.xml, else from its own default that logs to stdout
        try (var logging = HiveMqBroker.class.getResourceAsStream("/dev/tinyedge/broker/logback.xml")) {
            Files.copy(logging, conf.resolve("logback.xml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        hiveMq = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(conf)
                .withDataFolder(data)
                .withExtensionsFolder(extensions)
                .build();
        try {
            hiveMq.start().join();
        } catch (CompletionException e) {
            close();
            throw new IOException("the embedded broker did not start on " + host + ":" + port + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void close() {
        if (hiveMq != null) {
            try {
                hiveMq.stop().join();
                hiveMq.close();
            } catch (Exception e) {
                // stopping is best effort: the process is on its way out
            }
            hiveMq = null;
        }
    }
}
