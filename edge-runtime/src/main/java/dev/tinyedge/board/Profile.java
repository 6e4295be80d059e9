package dev.tinyedge.board;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What tinyedge should do on one kind of board: how much memory it may take, how many threads and which
 * backend it uses, the default context, and the thermal and GPIO settings. Read from a TOML file in
 * device-profiles/ (keys in snake_case, sections as below); every key but {@code [gpio]},
 * {@code match.models} and {@code match.compatibles} is required. Numbers are boxed so that a missing
 * key is told apart from a 0 (which means "all CPUs" or "any size" for some keys).
 */
public record Profile(String name, String description, Match match, Memory memory, Compute compute,
                      ModelDefaults model, Service service, Thermal thermal, Gpio gpio) {

    /** How auto-detection recognizes the board; {@code ramGb} 0 means any amount. */
    public record Match(List<String> models, List<String> compatibles, String arch, Integer ramGb) {
        public Match {
            models = models == null ? List.of() : List.copyOf(models);
            compatibles = compatibles == null ? List.of() : List.copyOf(compatibles);
        }
    }

    /** {@code budgetMb}: all of tinyedge's memory; {@code osReserveMb}: left free on the board itself. */
    public record Memory(Long budgetMb, Long osReserveMb) {
        public long budgetBytes() {
            return budgetMb << 20;
        }

        public long osReserveBytes() {
            return osReserveMb << 20;
        }
    }

    /** {@code threads} 0 means every CPU; {@code openclDevice} is a substring of the OpenCL device name. */
    public record Compute(Integer threads, String backend, String openclDevice) {
        /** The threads to run on a machine with {@code cpus} CPUs. */
        public int threadsFor(int cpus) {
            return threads == 0 ? cpus : Math.min(threads, cpus);
        }
    }

    public record ModelDefaults(Integer contextLength, KvCacheType kvCacheType) {}

    /**
     * {@code queueLength}: requests waiting for the model, the default of the daemon's {@code service.queue_size};
     * {@code parallel}: requests translated at once (KV-cache slots), the default of the daemon's
     * {@code service.parallel}, lowered by the memory planner to what fits; absent means 1.
     */
    public record Service(Integer queueLength, Integer parallel) {
        /** The broker may have this many requests in flight to the daemon (see ServeConfig.MIN_QUEUE_SIZE). */
        public static final int MIN_QUEUE_LENGTH = 20;

        public int parallelOrDefault() {
            return parallel == null ? 1 : parallel;
        }
    }

    /** {@code zone}: a thermal_zone*&#47;type such as "cpu-thermal", or "auto" for the hottest zone. */
    public record Thermal(String zone, Double softC, Double hardC) {}

    /** Line numbers of the status LED and the cancel button; either may be absent (null). */
    public record Gpio(Integer statusLed, Integer button) {}

    /** Sequences a step may decode at once: the forward pass's batch of 64 tokens. */
    public static final int MAX_PARALLEL = 64;

    /** Megabytes a budget may name: far beyond any board, and small enough that its bytes fit a long. */
    private static final long MAX_MB = 1L << 24;

    private static final TomlMapper MAPPER = TomlMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    /**
     * Parses and checks a profile; {@code source} (a file name) starts every error message.
     *
     * @throws ProfileException with one line naming the source, the key and what is wrong
     */
    public static Profile parse(String source, String toml) {
        Profile p;
        try {
            p = MAPPER.readValue(toml, Profile.class);
        } catch (JacksonException e) {
            throw new ProfileException("profile " + source + ": " + explain(e));
        }
        p.check(source);
        return p;
    }

    private void check(String source) {
        require(source, name != null && name.matches("[a-z0-9][a-z0-9_.-]*"), "name",
                "must be lower-case letters, digits, '-', '_' or '.'");
        require(source, description != null, "description", "is missing");
        require(source, match != null, "[match]", "is missing");
        require(source, match.arch() != null && !match.arch().isBlank(), "match.arch", "is missing");
        require(source, match.ramGb() != null, "match.ram_gb", "is missing (0 for any size)");
        require(source, match.ramGb() >= 0, "match.ram_gb", "must be 0 (any) or more");
        require(source, memory != null, "[memory]", "is missing");
        require(source, memory.budgetMb() != null, "memory.budget_mb", "is missing");
        require(source, memory.budgetMb() > 0 && memory.budgetMb() <= MAX_MB, "memory.budget_mb",
                "must be 1.." + MAX_MB + " (16 TiB)");
        require(source, memory.osReserveMb() != null, "memory.os_reserve_mb", "is missing");
        require(source, memory.osReserveMb() >= 0 && memory.osReserveMb() <= MAX_MB, "memory.os_reserve_mb",
                "must be 0.." + MAX_MB + " (16 TiB)");
        require(source, compute != null, "[compute]", "is missing");
        require(source, compute.threads() != null, "compute.threads", "is missing (0 for all CPUs)");
        require(source, compute.threads() >= 0, "compute.threads", "must be 0 (all CPUs) or more");
        require(source, "cpu".equals(compute.backend()) || "opencl".equals(compute.backend()),
                "compute.backend", "must be \"cpu\" or \"opencl\", not " + quoted(compute.backend()));
        require(source, compute.openclDevice() != null, "compute.opencl_device", "is missing (use \"\" for any)");
        require(source, model != null, "[model]", "is missing");
        require(source, model.contextLength() != null, "model.context_length", "is missing");
        require(source, model.contextLength() >= 16, "model.context_length", "must be at least 16");
        require(source, model.kvCacheType() != null, "model.kv_cache_type", "is missing (f32 or f16)");
        require(source, service != null, "[service]", "is missing");
        require(source, service.queueLength() != null, "service.queue_length", "is missing");
        require(source, service.queueLength() >= Service.MIN_QUEUE_LENGTH, "service.queue_length",
                "must be at least " + Service.MIN_QUEUE_LENGTH + " (the broker may have that many requests in flight)");
        require(source, service.parallel() == null || (service.parallel() >= 1 && service.parallel() <= MAX_PARALLEL),
                "service.parallel", "must be 1.." + MAX_PARALLEL);
        require(source, thermal != null, "[thermal]", "is missing");
        require(source, thermal.zone() != null && !thermal.zone().isBlank(), "thermal.zone", "is missing (\"auto\" for the hottest)");
        require(source, thermal.softC() != null, "thermal.soft_c", "is missing");
        require(source, thermal.hardC() != null, "thermal.hard_c", "is missing");
        require(source, thermal.softC() < thermal.hardC(), "thermal.soft_c",
                "(" + thermal.softC() + ") must be below thermal.hard_c (" + thermal.hardC() + ")");
        if (gpio != null) {
            require(source, gpio.statusLed() == null || gpio.statusLed() >= 0, "gpio.status_led", "must be 0 or more");
            require(source, gpio.button() == null || gpio.button() >= 0, "gpio.button", "must be 0 or more");
            require(source, gpio.statusLed() == null || !gpio.statusLed().equals(gpio.button()), "gpio.button",
                    "is the same line as gpio.status_led");
        }
    }

    private static void require(String source, boolean ok, String key, String problem) {
        if (!ok) {
            throw new ProfileException("profile " + source + ": " + key + " " + problem);
        }
    }

    /** One line naming the key and the problem, instead of Jackson's multi-line message. */
    private static String explain(JacksonException e) {
        String key = e instanceof JsonMappingException m ? path(m) : "";
        return switch (e) {
            case UnrecognizedPropertyException u -> "unknown key '" + key + "' (known here: "
                    + u.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")";
            case InvalidFormatException f when f.getTargetType() != null && f.getTargetType().isEnum() ->
                    key + " is " + quoted(f.getValue()) + ", expected one of "
                            + Arrays.stream(f.getTargetType().getEnumConstants()).map(Object::toString).collect(Collectors.joining(", "));
            case InvalidFormatException f -> key + " is " + quoted(f.getValue()) + ", expected "
                    + typeName(f.getTargetType());
            case MismatchedInputException m when !key.isEmpty() && m.getTargetType() != null ->
                    key + " has the wrong type, expected " + typeName(m.getTargetType());
            case JsonMappingException m when !key.isEmpty() -> key + ": " + firstLine(m.getOriginalMessage());
            default -> firstLine(e.getOriginalMessage())
                    + (e.getLocation() != null && e.getLocation().getLineNr() > 0 ? " (line " + e.getLocation().getLineNr() + ")" : "");
        };
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String typeName(Class<?> type) {
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "an integer";
        }
        if (type == double.class || type == Double.class) {
            return "a number";
        }
        if (type == String.class) {
            return "a string";
        }
        return type.isRecord() ? "a [section]" : type.getSimpleName();
    }

    private static String firstLine(String s) {
        int nl = s == null ? -1 : s.indexOf('\n');
        return s == null ? "" : nl < 0 ? s : s.substring(0, nl);
    }

    private static String quoted(Object value) {
        return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
    }
}
