import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.tokenizer.SynthVocabulary;
import dev.tinyedge.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Times the tokenization (plain text, no BOS, as llama.cpp is timed) of a 2,000-character translation request (mixed English, Spanish, German, Russian,
 * Chinese, emoji and a line of code) with each family's real tokenizer, as synth writes it: the first call in a
 * fresh JVM, then the median, 99th percentile and maximum of 1,000 calls after 300 warm-up calls. One JSON line per
 * family. bench/tokenizer-bench.sh runs it, and llama.cpp on the files and request it leaves in OUT_DIR.
 *
 * usage: java ... bench/TokenizerBench.java OUT_DIR
 */
public class TokenizerBench {
    static final String PARAGRAPH = "Where is the train station? I'd like to buy two tickets to Barcelona, please. "
            + "¿Dónde está la estación de tren? Quisiera comprar dos billetes. Wo ist der Bahnhof? Ich möchte zwei "
            + "Fahrkarten kaufen. Где находится вокзал? 火车站在哪里？我想买两张票。 🚆🎫 "
            + "for (int i = 0; i < n; i++) { total += price[i]; }\n";

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        String request = PARAGRAPH.repeat(2000 / PARAGRAPH.length() + 1).substring(0, 2000);
        Files.writeString(out.resolve("request.txt"), request); // for llama.cpp's turn
        String[][] families = {{"qwen3", "151936"}, {"llama3", "128256"}, {"gemma3", "262144"}, {"llama", "32000"}};
        for (String[] family : families) {
            Path file = out.resolve("tokenizer-" + family[0] + ".gguf");
            GgufWriter writer = new GgufWriter().put("general.architecture", GgufValue.string("llama"));
            SynthVocabulary.forFamily(family[0], Integer.parseInt(family[1])).writeTo(writer);
            writer.write(file);
            Tokenizer tokenizer;
            long loadStart = System.nanoTime();
            try (GgufFile gguf = GgufFile.open(file)) {
                tokenizer = Tokenizer.fromGguf(gguf);
            }
            long loaded = System.nanoTime();
            int tokens = tokenizer.encode(request, false, false).length;
            long first = System.nanoTime() - loaded;
            for (int i = 0; i < 300; i++) {
                tokenizer.encode(request, false, false);
            }
            long[] times = new long[1000];
            for (int i = 0; i < times.length; i++) {
                long t = System.nanoTime();
                tokenizer.encode(request, false, false);
                times[i] = System.nanoTime() - t;
            }
            Arrays.sort(times);
            System.out.println(String.format(Locale.ROOT,
                    "{\"family\":\"%s\",\"chars\":%d,\"tokens\":%d,\"load_ms\":%.0f,\"first_ms\":%.2f,"
                            + "\"median_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}",
                    family[0], request.length(), tokens, (loaded - loadStart) / 1e6, first / 1e6,
                    times[times.length / 2] / 1e6, times[times.length * 99 / 100] / 1e6, times[times.length - 1] / 1e6));
        }
    }
}
