package dev.tinyedge.board;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The board profiles tinyedge knows: the built-ins packaged on the class path under
 * dev/tinyedge/profiles/, then every *.toml in the given folders (the package installs them to
 * /usr/share/tinyedge/profiles); a later file of the same name replaces an earlier one.
 */
public final class ProfileCatalog {
    public static final Path INSTALLED = Path.of("/usr/share/tinyedge/profiles");
    public static final String AUTO = "auto";
    private static final String RESOURCE_DIR = "dev/tinyedge/profiles";
    private static final double RAM_MATCH_FRACTION = 0.8;
    private static final Logger log = LoggerFactory.getLogger(ProfileCatalog.class);

    private final Map<String, Profile> byName;

    private ProfileCatalog(Map<String, Profile> byName) {
        this.byName = byName;
    }

    /** The built-ins and the installed profiles. */
    public static ProfileCatalog load() {
        return load(List.of(INSTALLED));
    }

    /** The built-ins, then the profiles in {@code folders} (missing folders are skipped). */
    public static ProfileCatalog load(List<Path> folders) {
        Map<String, Profile> byName = new TreeMap<>();
        builtIns().forEach(p -> byName.put(p.name(), p));
        for (Path folder : folders) {
            if (Files.isDirectory(folder)) {
                for (Path file : tomlFiles(folder)) {
                    Profile p = readFile(file);
                    byName.put(p.name(), p);
                }
            }
        }
        return new ProfileCatalog(byName);
    }

    public List<Profile> all() {
        return List.copyOf(byName.values());
    }

    public Optional<Profile> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * The profile {@code spec} names: "auto" detects the board from {@code facts}, a name picks a profile
     * of the catalog, and anything ending in .toml (or containing '/') is read as a file.
     */
    public Profile select(String spec, BoardFacts facts) {
        if (spec == null || spec.equals(AUTO)) {
            return detect(facts);
        }
        if (spec.endsWith(".toml") || spec.contains("/")) {
            return readFile(Path.of(spec));
        }
        return find(spec).orElseThrow(() -> new ProfileException("unknown profile '" + spec + "' (known: "
                + String.join(", ", byName.keySet()) + ", or a path to a .toml file)"));
    }

    /** A detected profile and, for the log, what board was seen or why the generic profile was taken. */
    public record Detection(Profile profile, String reason) {}

    /** {@link #detection} that says in one log line what it found; the daemon's choice. */
    public Profile detect(BoardFacts facts) {
        Detection d = detection(facts);
        log.info(d.reason());
        return d.profile();
    }

    /**
     * The profile for this board: the board profiles whose model string or compatible matches, for the
     * largest RAM size the machine has (MemTotal is a little under the nominal size, hence the fraction);
     * else the generic profile of the architecture.
     */
    public Detection detection(BoardFacts facts) {
        List<Profile> family = byName.values().stream()
                .filter(p -> p.match().arch().equals(facts.arch()))
                .filter(p -> p.match().models().stream().anyMatch(facts.model()::contains)
                        || p.match().compatibles().stream().anyMatch(facts.compatibles()::contains))
                .toList();
        Optional<Profile> sized = family.stream()
                .filter(p -> facts.memTotalBytes() >= p.match().ramGb() * RAM_MATCH_FRACTION * (1L << 30))
                .max(Comparator.comparingInt(p -> p.match().ramGb()));
        if (sized.isPresent()) {
            return new Detection(sized.get(), "board: " + facts.summary() + " -> profile " + sized.get().name());
        }
        Profile generic = byName.values().stream()
                .filter(p -> p.match().models().isEmpty() && p.match().compatibles().isEmpty())
                .filter(p -> p.match().arch().equals(facts.arch()))
                .findFirst()
                .orElseThrow(() -> new ProfileException("no profile for this machine (" + facts.summary()
                        + ") and no generic profile for " + facts.arch() + ": pass --profile FILE.toml"));
        String why = family.isEmpty() ? "no board profile matches"
                : "no board profile for this memory size (" + String.join(", ", family.stream().map(Profile::name).toList()) + " need more)";
        return new Detection(generic, "board: " + facts.summary() + ": " + why + "; using " + generic.name());
    }

    private static Profile readFile(Path file) {
        try {
            return Profile.parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ProfileException("profile " + file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static List<Path> tomlFiles(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".toml")).sorted().toList();
        } catch (IOException e) {
            throw new ProfileException("profiles folder " + folder + ": cannot list (" + e.getMessage() + ")");
        }
    }

    /** Profiles packaged on the class path, from a jar or (in development) a folder. */
    private static List<Profile> builtIns() {
        URL url = ProfileCatalog.class.getClassLoader().getResource(RESOURCE_DIR);
        if (url == null) {
            return List.of();
        }
        try {
            URI uri = url.toURI();
            if (!uri.getScheme().equals("jar")) {
                return tomlFiles(Path.of(uri)).stream().map(ProfileCatalog::readBuiltIn).toList();
            }
            try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
                List<Profile> profiles = new ArrayList<>();
                for (Path file : tomlFiles(jar.getPath(RESOURCE_DIR))) {
                    profiles.add(readBuiltIn(file));
                }
                return profiles;
            }
        } catch (URISyntaxException | IOException e) {
            throw new ProfileException("built-in profiles at " + url + ": cannot list (" + e.getMessage() + ")");
        }
    }

    private static Profile readBuiltIn(Path file) {
        try {
            return Profile.parse("(built-in) " + file.getFileName(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ProfileException("built-in profile " + file.getFileName() + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
