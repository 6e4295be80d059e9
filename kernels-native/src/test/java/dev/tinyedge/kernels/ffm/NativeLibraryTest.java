package dev.tinyedge.kernels.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the library comes from when no installed folder is given: the jar's copy, copied once into the user's cache. */
class NativeLibraryTest {
    @TempDir
    Path temp;

    @Test
    void aLibraryInsideAJarIsCopiedOnceIntoTheCacheAndLoads() throws Exception {
        String platform = NativeLibrary.platform();
        Path built = Path.of(System.getProperty("tinyedge.native.build", "target/native"), platform, NativeLibrary.FILE);
        Path jar = temp.resolve("runtime.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("dev/tinyedge/kernels/native/" + platform + "/" + NativeLibrary.FILE));
            zip.write(Files.readAllBytes(built));
        }
        URL inJar = URI.create("jar:" + jar.toUri() + "!/dev/tinyedge/kernels/native/" + platform + "/" + NativeLibrary.FILE).toURL();
        Path cache = temp.resolve("cache");
        String before = System.getProperty("tinyedge.cache.dir");
        System.setProperty("tinyedge.cache.dir", cache.toString());
        try {
            Path copied = NativeLibrary.copyToCache(inJar, platform);
            assertTrue(copied.startsWith(cache.resolve("native")), copied.toString());
            assertEquals(Files.size(built), Files.size(copied));
            long modified = Files.getLastModifiedTime(copied).toMillis();
            assertEquals(copied, NativeLibrary.copyToCache(inJar, platform), "the same content, the same file");
            assertEquals(modified, Files.getLastModifiedTime(copied).toMillis(), "not written again");
            assertTrue(NativeLibrary.load(copied).supportedTiers() != 0, "the copy loads and runs");
        } finally {
            if (before == null) {
                System.clearProperty("tinyedge.cache.dir");
            } else {
                System.setProperty("tinyedge.cache.dir", before);
            }
        }
    }
}
