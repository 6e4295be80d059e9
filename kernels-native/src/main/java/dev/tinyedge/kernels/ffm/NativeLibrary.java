package dev.tinyedge.kernels.ffm;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.zip.CRC32;

/**
 * libtinyedge-kernels.so for this platform, found and linked. Where it comes from, first match:
 * {@code -Dtinyedge.native.dir} (the .deb's /usr/lib/tinyedge/native, a build's kernels-native/target/native;
 * holding PLATFORM/libtinyedge-kernels.so), else the runtime jar's copy: read in place from a class folder,
 * or copied out of a jar once into the user's cache (~/.cache/tinyedge/native, never /tmp).
 */
final class NativeLibrary {
    static final String FILE = "libtinyedge-kernels.so";
    private static final String RESOURCES = "/dev/tinyedge/kernels/native/";
    private static final Linker LINKER = Linker.nativeLinker();
    /** The product and rounding calls read Java arrays in place and run for milliseconds at most. */
    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    final Path path;
    private final SymbolLookup symbols;
    private final MethodHandle supportedTiers;
    private final MethodHandle inputStride;

    private NativeLibrary(Path path) {
        this.path = path;
        this.symbols = SymbolLookup.libraryLookup(path, Arena.global());
        this.supportedTiers = function("tek_supported_tiers", FunctionDescriptor.of(ValueLayout.JAVA_INT), false);
        this.inputStride = function("tek_input_stride",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), false);
    }

    /** The library for this platform, or an exception saying why there is none. */
    static NativeLibrary load() throws IOException {
        return new NativeLibrary(locate(platform()));
    }

    /** Links the library at {@code path} (tests give a broken one). */
    static NativeLibrary load(Path path) {
        return new NativeLibrary(path);
    }

    /** linux-x86_64 or linux-aarch64, the platforms the build makes a library for. */
    static String platform() throws IOException {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
        if (!os.equals("linux") || arch == null) {
            throw new IOException("no native kernel library for " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
        return "linux-" + arch;
    }

    private static Path locate(String platform) throws IOException {
        String dir = System.getProperty("tinyedge.native.dir");
        if (dir != null) {
            Path file = Path.of(dir, platform, FILE);
            if (!Files.isRegularFile(file)) {
                throw new IOException("no native kernel library at " + file);
            }
            return file;
        }
        URL url = NativeLibrary.class.getResource(RESOURCES + platform + "/" + FILE);
        if (url == null) {
            throw new IOException("this build has no native kernel library for " + platform);
        }
        if (url.getProtocol().equals("file")) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
        }
        return copyToCache(url, platform);
    }

    /** Copies the jar's library into the user's cache under a name that changes with its content. */
    static Path copyToCache(URL url, String platform) throws IOException {
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        CRC32 crc = new CRC32();
        crc.update(bytes);
        String cache = System.getProperty("tinyedge.cache.dir");
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null ? Path.of(cache)
                : xdg != null && !xdg.isBlank() ? Path.of(xdg, "tinyedge")
                : Path.of(System.getProperty("user.home"), ".cache", "tinyedge");
        Path folder = base.resolve("native").resolve(platform + "-" + Long.toHexString(crc.getValue()));
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file) || Files.size(file) != bytes.length) {
            Files.createDirectories(folder);
            Path partial = Files.createTempFile(folder, FILE, ".part");
            Files.write(partial, bytes);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return file;
    }

    MethodHandle function(String name, FunctionDescriptor descriptor, boolean critical) {
        MemorySegment address = symbols.find(name)
                .orElseThrow(() -> new IllegalStateException(path + " lacks " + name));
        return critical ? LINKER.downcallHandle(address, descriptor, CRITICAL) : LINKER.downcallHandle(address, descriptor);
    }

    MethodHandle criticalFunction(String name, FunctionDescriptor descriptor) {
        return function(name, descriptor, true);
    }

    /** The tiers' bits that this CPU runs. */
    int supportedTiers() {
        try {
            return (int) supportedTiers.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Bytes of one vector's record for {@code cols} elements rounded to kind (8: Q8_0, 15: Q8_K). */
    long inputStride(int kind, long cols) {
        try {
            return (long) inputStride.invokeExact(kind, cols);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
