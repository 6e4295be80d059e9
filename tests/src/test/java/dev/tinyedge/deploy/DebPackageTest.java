package dev.tinyedge.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static dev.tinyedge.deploy.Processes.REPO;
import static dev.tinyedge.deploy.Processes.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Builds the .deb and installs it with the real dpkg into a throw-away root (dpkg --root with chroot-less
 * maintainer scripts, which honour DPKG_ROOT), so the host system is never touched; then runs the
 * installed launcher and checks the unit with systemd-analyze against that root.
 */
class DebPackageTest {
    @TempDir
    Path tmp;

    @Test
    void installsIntoAThrowAwayRootRunsAndPurges() throws Exception {
        String built = run(REPO, "deploy/package-deb.sh").strip();
        Path deb = Path.of(built.substring(built.lastIndexOf('\n') + 1));
        assertTrue(deb.getFileName().toString().matches("tinyedge_[0-9.]+(-SNAPSHOT)?_all\\.deb"), deb.toString());
        assertEquals("all", run(tmp, "dpkg-deb", "-f", deb.toString(), "Architecture").strip());
        assertEquals("/etc/tinyedge/tinyedge.conf\n", run(tmp, "dpkg-deb", "-I", deb.toString(), "conffiles"));
        String contents = run(tmp, "dpkg-deb", "-c", deb.toString());
        assertFalse(contents.contains("hivemq"), "the embedded broker stays out of the package");

        Path root = fakeRoot(tmp.resolve("root"));
        String hostPasswd = Files.readString(Path.of("/etc/passwd"));
        run(tmp, "dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends", "-i", deb.toString());

        assertEquals(hostPasswd, Files.readString(Path.of("/etc/passwd")), "the host's accounts are untouched");
        List<String> passwd = Files.readAllLines(root.resolve("etc/passwd"));
        String user = passwd.stream().filter(l -> l.startsWith("tinyedge:")).findFirst().orElseThrow();
        String[] fields = user.split(":");
        assertEquals(List.of("/var/lib/tinyedge", "/usr/sbin/nologin"), List.of(fields[5], fields[6]));
        assertTrue(Files.readAllLines(root.resolve("etc/group")).contains("gpio:x:997:tinyedge"),
                "the daemon may open /dev/gpiochip*");
        int uid = Integer.parseInt(fields[2]);
        Path models = root.resolve("var/lib/tinyedge/models");
        assertEquals(uid, Files.getAttribute(models, "unix:uid"));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("etc/tinyedge/tinyedge.conf"))));
        for (String profile : List.of("raspberry-pi-4-1gb", "raspberry-pi-5-8gb", "jetson-orin-nano-8gb", "rk3588-16gb", "generic-arm64")) {
            assertTrue(Files.isRegularFile(root.resolve("usr/share/tinyedge/profiles/" + profile + ".toml")), profile);
        }

        for (String platform : List.of("linux-x86_64", "linux-aarch64")) {
            Path library = root.resolve("usr/share/tinyedge/native/" + platform + "/libtinyedge-kernels.so");
            assertTrue(Files.isRegularFile(library), "the package carries the native kernels for " + platform);
        }

        // the installed launcher, through the /usr/bin symlink, on a model it synthesizes
        Path launcher = root.resolve("usr/bin/tinyedge");
        Path model = tmp.resolve("tiny.gguf");
        run(tmp, launcher.toString(), "synth", model.toString(), "--preset", "tiny", "--type", "q4_0");
        // the native kernels load from the installed folder: nothing is copied out into the user's cache
        Path home = Files.createDirectories(tmp.resolve("home"));
        String bench = run(tmp, Map.of("HOME", home.toString(), "XDG_CACHE_HOME", ""), List.of(launcher.toString(),
                "bench", "--model", model.toString(), "--prompt-tokens", "8", "--gen-tokens", "2"));
        assertTrue(bench.contains(" native "), "the installed native kernels run: " + bench);
        assertFalse(Files.exists(home.resolve(".cache/tinyedge/native")), "no copy of the library in ~/.cache");
        String inspect = run(tmp, Map.of(), List.of(launcher.toString(), "inspect", model.toString(), "--profile", "raspberry-pi-4-1gb"));
        assertTrue(inspect.contains("memory plan (profile raspberry-pi-4-1gb, backend cpu, context 256"), inspect);

        // the unit, checked offline against the installed tree (systemd is not PID 1 here)
        copySystemdUnits(root);
        run(tmp, "systemd-analyze", "verify", "--root=" + root, "tinyedge.service");
        // exposure 0..10 as systemd rates it, x10: fail if the hardening slips above 2.0 ("OK")
        String security = run(tmp, "systemd-analyze", "security", "--offline=yes", "--root=" + root,
                "--threshold=20", "tinyedge.service");
        assertTrue(security.contains("Overall exposure level for tinyedge.service"), security);

        run(tmp, "dpkg", "--root=" + root, "--force-script-chrootless", "--purge", "tinyedge");
        assertFalse(Files.exists(root.resolve("usr/share/tinyedge")));
        assertFalse(Files.exists(root.resolve("var/lib/tinyedge")));
        assertFalse(Files.exists(root.resolve("etc/tinyedge")));
    }

    /** An empty dpkg database and minimal account files, as useradd --prefix needs them. */
    private static Path fakeRoot(Path root) throws Exception {
        Files.createDirectories(root.resolve("var/lib/dpkg/info"));
        Files.createDirectories(root.resolve("var/lib/dpkg/updates"));
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("var/lib/dpkg/status"), "");
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        Files.writeString(root.resolve("etc/shadow"), "root:*:19000:0:99999:7:::\n");
        Files.writeString(root.resolve("etc/group"), "root:x:0:\ngpio:x:997:\n");
        Files.writeString(root.resolve("etc/gshadow"), "root:*::\ngpio:!::\n");
        return root;
    }

    /** The host's own units (targets, slices) that a unit's default dependencies refer to. */
    private static void copySystemdUnits(Path root) throws Exception {
        Path units = root.resolve("usr/lib/systemd/system");
        try (var files = Files.list(Path.of("/lib/systemd/system"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = units.resolve(f.getFileName());
                if (!Files.exists(target)) {
                    Files.copy(f, target);
                }
            }
        }
    }
}
