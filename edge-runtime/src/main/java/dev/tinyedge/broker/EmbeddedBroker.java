package dev.tinyedge.broker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * An MQTT 5 broker running inside the daemon, for a board that has no broker to join. The implementation
 * lives in the optional {@code broker-embedded} module (HiveMQ CE, about 105 MB of jars) and is found on the
 * class path with {@link ServiceLoader}, so builds that leave the module out still run against an external
 * broker.
 */
public interface EmbeddedBroker extends AutoCloseable {
    /**
     * Starts listening on {@code host:port}, keeping sessions and queued messages under {@code dataDir} so that
     * they outlive a restart. Returns once clients can connect.
     */
    void start(String host, int port, Path dataDir) throws IOException;

    /** Stops the broker; sessions stay in the data folder. */
    @Override
    void close();

    /** The embedded broker on the class path, if the {@code broker-embedded} module was built. */
    static Optional<EmbeddedBroker> find() {
        return ServiceLoader.load(EmbeddedBroker.class).findFirst();
    }
}
