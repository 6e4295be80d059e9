package dev.tinyedge.service;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The daemon's configuration file (TOML). Every key is optional; command-line flags override the file.
 * <pre>
 * node = "pi5-kitchen"              # default: the host name
 * model = "/var/lib/tinyedge/models/tinyllama-1.1b-chat-v1.0.Q4_0.gguf"
 * profile = "auto"
 * backend = "cpu"                  # default: the profile's
 *
 * [mqtt]
 * broker = "tcp://192.0.2.10:1883"  # "embedded" (the default) starts a broker on 127.0.0.1:1883
 * username = "tinyedge"
 * password_file = "/etc/tinyedge/mqtt-password"
 * ca_file = "/etc/tinyedge/ca.pem"  # with ssl://host:8883; cert_file + key_file (PKCS#8) for client certificates
 *
 * [service]
 * queue_size = 32
 * parallel = 4                     # requests translated at once; default: the board profile's, as memory allows
 * request_timeout_s = 120
 *
 * [metrics]
 * listen = "127.0.0.1:9464"         # Prometheus /metrics; off when absent
 * </pre>
 * Fields are public and named like the keys: this class is the file's schema.
 */
public final class ServeConfig {
    public String node = hostName();
    public String model;
    public String profile = "auto";
    /** "cpu" or "opencl"; null takes the board profile's. */
    public String backend;
    /** 0 takes the board profile's thread count. */
    public int threads;
    /** Context length in tokens; 0 takes the model's (capped by the profile's memory plan). */
    public int context;
    public Mqtt mqtt = new Mqtt();
    public Service service = new Service();
    public Metrics metrics = new Metrics();

    public static final class Mqtt {
        /** {@code embedded}, or a broker URL: tcp://host:1883, ssl://host:8883. */
        public String broker = "embedded";
        /** Fixed, so the broker keeps this daemon's session across restarts; default {@code tinyedge-NODE}. */
        public String clientId;
        public String topicPrefix = "tinyedge";
        /** The shared-subscription group; default: the topic prefix. */
        public String shareGroup;
        /** How long the broker keeps the session (and the requests queued in it) while the daemon is away. */
        public long sessionExpiryS = 7 * 24 * 3600;
        public int keepAliveS = 30;
        public int reconnectMaxS = 30;
        public String username;
        public String passwordFile;
        public String caFile;
        public String certFile;
        public String keyFile;
        /**
         * The MQTT 5 Receive Maximum to ask for; 0 sends none. Mosquitto 2.0.11 miscounts it (asked for 4, it
         * had 135 requests unacknowledged at once while acknowledgements were flowing; with none it keeps to
         * about 20-34), so it is only worth setting for brokers that honour it, like the embedded one.
         */
        public int receiveMaximum;
        /** The embedded broker's port on 127.0.0.1. */
        public int embeddedPort = 1883;
        /** Where the embedded broker keeps its sessions; default ~/.tinyedge/broker. */
        public String embeddedDataDir;
    }

    public static final class Service {
        /**
         * Requests waiting for the translator; at least {@link #MIN_QUEUE_SIZE}, 0 takes the board profile's
         * {@code service.queue_length} (64 in the shipped profiles). Beyond it new requests are answered
         * {@code busy}. Mosquitto 2.0.11 was measured with up to 34 unacknowledged requests in flight to one
         * client under load, hence the margin.
         */
        public int queueSize;

        /** {@link #queueSize}, or {@link #DEFAULT_QUEUE_SIZE} while no board profile has filled it in. */
        public int queueSizeOrDefault() {
            return queueSize > 0 ? queueSize : DEFAULT_QUEUE_SIZE;
        }
        /**
         * Requests translated at once, decoded together in one batched forward pass, each with a KV cache of its
         * own; 0 takes the board profile's {@code service.parallel}, lowered to what the memory planner fits. A
         * number set here that does not fit is refused. The OpenCL backend translates one at a time.
         */
        public int parallel;
        public int requestTimeoutS = 120;
        public int dedupWindowS = 600;
        public int dedupMaxEntries = 10_000;
        /** The heap the stored results may take, their strings and objects counted (see DedupCache). */
        public long dedupMaxBytes = 16L << 20;
        public int maxInputChars = 4096;
        public int maxPayloadBytes = 64 * 1024;
        public int maxTokens = 256;
        /**
         * New requests one reply topic may bring per second (bursts of twice that), since Mosquitto does not limit
         * a client's publish rate; beyond it the daemon answers {@code busy}. 0 turns the limit off. High enough
         * by default that a gateway's burst, and its requests delivered again around a broker restart, stay under it.
         */
        public int clientRequestsPerS = 100;
        public int statusIntervalS = 30;
        /** How long a running request may take to finish on SIGTERM before it is released to the broker. */
        public int shutdownGraceS = 10;
        /** Keep the instructions' KV cache between requests (off only to measure what it saves). */
        public boolean prefixCache = true;
    }

    public static final class Metrics {
        /** {@code HOST:PORT} of the Prometheus endpoint ({@code /metrics}); null: no endpoint. */
        public String listen;
    }

    /**
     * Mosquitto 2.0.11 sends a client up to 20 unacknowledged messages when it names no Receive Maximum (its
     * max_inflight_messages); since a request is acknowledged only after its reply, a smaller queue would turn
     * requests away that the broker considers delivered.
     */
    public static final int MIN_QUEUE_SIZE = dev.tinyedge.board.Profile.Service.MIN_QUEUE_LENGTH;

    /** The queue of a configuration made in code, without a board profile: the shipped profiles' size. */
    public static final int DEFAULT_QUEUE_SIZE = 64;
    /** MQTT 5's four-byte session expiry interval. */
    private static final long MAX_U32 = 0xFFFF_FFFFL;

    public static ServeConfig read(Path file) throws IOException {
        TomlMapper toml = TomlMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
        try {
            ServeConfig config = toml.readValue(Files.readString(file), ServeConfig.class);
            if (config == null) {
                return new ServeConfig();
            }
            // Jackson reads `mqtt = ""` (a string where a table belongs) as a null section
            if (config.mqtt == null || config.service == null || config.metrics == null) {
                throw new IOException(file + ": " + (config.mqtt == null ? "mqtt" : config.service == null ? "service"
                        : "metrics") + " must be a table ([section] with its keys), not a value");
            }
            return config;
        } catch (JsonMappingException e) {
            throw new IOException(file + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Checks what the types cannot say; the message names the key. */
    public void validate() {
        require(backend == null || backend.equals("cpu") || backend.equals("opencl"),
                "backend must be \"cpu\" or \"opencl\"");
        require(service.queueSize == 0 || service.queueSize >= MIN_QUEUE_SIZE, "service.queue_size must be at least "
                + MIN_QUEUE_SIZE + " (the broker may have that many requests in flight to the daemon), or 0 for the "
                + "board profile's");
        require(service.parallel >= 0 && service.parallel <= dev.tinyedge.board.Profile.MAX_PARALLEL,
                "service.parallel must be 0 (the board profile's) .. " + dev.tinyedge.board.Profile.MAX_PARALLEL);
        require(service.requestTimeoutS > 0, "service.request_timeout_s must be positive");
        require(service.dedupWindowS >= 0, "service.dedup_window_s must not be negative");
        require(service.dedupMaxEntries > 0, "service.dedup_max_entries must be positive");
        require(service.dedupMaxBytes > 0, "service.dedup_max_bytes must be positive");
        require(service.maxInputChars > 0, "service.max_input_chars must be positive");
        require(service.maxPayloadBytes > 0, "service.max_payload_bytes must be positive");
        require(service.maxTokens > 0, "service.max_tokens must be positive");
        require(service.clientRequestsPerS >= 0, "service.client_requests_per_s must not be negative (0: no limit)");
        require(service.statusIntervalS > 0, "service.status_interval_s must be positive");
        require(threads >= 0, "threads must be 0 (the profile's) or more");
        require(context >= 0, "context must be 0 (the model's) or more");
        require(service.shutdownGraceS >= 0, "service.shutdown_grace_s must not be negative");
        require(mqtt.sessionExpiryS > 0 && mqtt.sessionExpiryS <= MAX_U32,
                "mqtt.session_expiry_s must be 1.." + MAX_U32 + ": requests queue in the session");
        // MQTT 5 carries these in two bytes
        require(mqtt.keepAliveS >= 0 && mqtt.keepAliveS <= 65535, "mqtt.keep_alive_s must be 0..65535");
        require(mqtt.receiveMaximum >= 0 && mqtt.receiveMaximum <= 65535,
                "mqtt.receive_maximum must be 0 (none sent) .. 65535");
        require(mqtt.reconnectMaxS > 0, "mqtt.reconnect_max_s must be positive (the longest pause between tries)");
        require(mqtt.embeddedPort > 0 && mqtt.embeddedPort <= 65535, "mqtt.embedded_port must be 1..65535");
        require(mqtt.topicPrefix != null && RequestParser.isTopicName(mqtt.topicPrefix),
                "mqtt.topic_prefix must be a topic name without wildcards");
        require(node != null && RequestParser.isTopicName(node) && !node.contains("/"),
                "node must be a name without '/', '+' or '#'");
        require(metrics.listen == null || metrics.listen.matches("(\\[[0-9a-fA-F:]+]|[A-Za-z0-9.-]+):\\d{1,5}")
                        && Integer.parseInt(metrics.listen.substring(metrics.listen.lastIndexOf(':') + 1)) <= 65535,
                "metrics.listen must be HOST:PORT, e.g. \"127.0.0.1:9464\"");
    }

    public String clientId() {
        return mqtt.clientId != null ? mqtt.clientId : "tinyedge-" + node;
    }

    public String shareGroup() {
        return mqtt.shareGroup != null ? mqtt.shareGroup : mqtt.topicPrefix;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "tinyedge";
        }
    }
}
