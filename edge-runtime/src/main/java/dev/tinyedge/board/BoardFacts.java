package dev.tinyedge.board;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What Linux says about the machine, read from a filesystem root ("/" on the board, a fake tree in
 * tests): the device-tree model and compatibles, memory, online CPUs and CPU feature flags.
 * Missing files give empty values, never errors: x86 machines have no device tree.
 *
 * @param memTotalBytes     MemTotal, or -1 when /proc/meminfo cannot be read
 * @param memAvailableBytes MemAvailable, or -1 when unknown
 */
public record BoardFacts(String arch, String model, List<String> compatibles, long memTotalBytes,
                         long memAvailableBytes, int cpus, List<String> cpuFeatures) {

    /** Reads the facts of the machine this JVM runs on. */
    public static BoardFacts ofThisMachine() {
        return read(Path.of("/"), System.getProperty("os.arch"));
    }

    /** @param osArch Java's os.arch ("aarch64", "amd64"); stored as uname spells it ("x86_64") */
    public static BoardFacts read(Path root, String osArch) {
        String arch = "amd64".equals(osArch) ? "x86_64" : osArch;
        String model = read(root.resolve("proc/device-tree/model")).replace("\0", "").strip();
        List<String> compatibles = Arrays.stream(read(root.resolve("proc/device-tree/compatible")).split("\0"))
                .map(String::strip).filter(s -> !s.isEmpty()).toList();
        String meminfo = read(root.resolve("proc/meminfo"));
        int cpus = onlineCpus(read(root.resolve("sys/devices/system/cpu/online")));
        return new BoardFacts(arch, model, compatibles, meminfoBytes(meminfo, "MemTotal"),
                meminfoBytes(meminfo, "MemAvailable"), cpus > 0 ? cpus : Runtime.getRuntime().availableProcessors(),
                cpuFeatures(read(root.resolve("proc/cpuinfo"))));
    }

    /** "Raspberry Pi 5 Model B Rev 1.0, aarch64, 4 CPUs, 7.9 GiB" */
    public String summary() {
        return (model.isEmpty() ? "no device-tree model" : model) + ", " + arch + ", " + cpus + " CPUs, "
                + (memTotalBytes < 0 ? "unknown memory" : String.format(Locale.ROOT, "%.1f GiB", memTotalBytes / (double) (1L << 30)));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    /** A "Key:   123 kB" line of /proc/meminfo in bytes, or -1. */
    static long meminfoBytes(String meminfo, String key) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith(key + ":")) {
                String[] parts = line.substring(key.length() + 1).strip().split("\\s+");
                long value = Long.parseLong(parts[0]);
                return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
            }
        }
        return -1;
    }

    /** Counts CPUs in a list like "0-3,6". */
    static int onlineCpus(String list) {
        int count = 0;
        for (String range : list.strip().split(",")) {
            if (range.isEmpty()) {
                continue;
            }
            String[] ends = range.split("-");
            count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
        }
        return count;
    }

    /** The first "Features" (ARM) or "flags" (x86) line of /proc/cpuinfo. */
    private static List<String> cpuFeatures(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                String key = line.substring(0, colon).strip();
                if (key.equals("Features") || key.equals("flags")) {
                    return List.of(line.substring(colon + 1).strip().split("\\s+"));
                }
            }
        }
        return List.of();
    }
}
