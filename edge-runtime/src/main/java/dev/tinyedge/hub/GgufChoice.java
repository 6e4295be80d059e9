package dev.tinyedge.hub;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which GGUF of a repository {@code pull REPO[:QUANT|:FILE]} means: the file named, or the one whose name
 * carries the quantization (the GGUF repositories' convention: {@code ...-Q4_K_M.gguf}, {@code ....Q4_0.gguf},
 * {@code ...-q4_k_m.gguf}), or with neither the repository's only GGUF or its Q4_0 (what tinyedge runs fastest).
 *
 * @param repo     {@code owner/name}
 * @param quant    upper-case quantization name, or null
 * @param fileName a file of the repository, or null
 */
public record GgufChoice(String repo, String quant, String fileName) {
    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*");
    private static final Pattern QUANT = Pattern.compile("(?i)(I?Q[1-8](_[A-Z0-9]+)*|BF16|F16|F32)");
    private static final Pattern SPLIT_PART = Pattern.compile("(?i).*-\\d{5}-of-\\d{5}\\.gguf");
    public static final String PREFERRED_QUANT = "Q4_0";

    /** Parses {@code REPO[:QUANT|:FILE]}; a selector ending in .gguf names a file. */
    public static GgufChoice parse(String spec) {
        int colon = spec.indexOf(':');
        String repo = colon < 0 ? spec : spec.substring(0, colon);
        String selector = colon < 0 ? null : spec.substring(colon + 1);
        if (!REPO.matcher(repo).matches()) {
            throw new IllegalArgumentException("'" + spec + "' is neither a catalog name nor a Hugging Face "
                    + "repository (OWNER/NAME[:QUANT|:FILE.gguf])");
        }
        if (selector == null || selector.isEmpty()) {
            return new GgufChoice(repo, null, null);
        }
        if (selector.toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            return new GgufChoice(repo, null, selector);
        }
        if (!QUANT.matcher(selector).matches()) {
            throw new IllegalArgumentException("'" + selector + "' is neither a quantization (Q4_0, Q4_K_M, Q8_0, "
                    + "F16, ...) nor a .gguf file name");
        }
        return new GgufChoice(repo, selector.toUpperCase(Locale.ROOT), null);
    }

    /** The quantization a GGUF file name carries: the last part of it that names one. */
    public static Optional<String> quantOf(String fileName) {
        String base = fileName.replaceFirst("(?i)\\.gguf$", "");
        String found = null;
        for (String part : base.split("[-.]")) {
            if (QUANT.matcher(part).matches()) {
                found = part.toUpperCase(Locale.ROOT);
            }
        }
        return Optional.ofNullable(found);
    }

    /** The file this choice means among the repository's files; the error lists what it has instead. */
    public HubFile pick(List<HubFile> files) throws HubException {
        List<HubFile> ggufs = files.stream().filter(HubFile::isGguf)
                .filter(f -> !SPLIT_PART.matcher(f.path()).matches()).toList();
        if (fileName != null) {
            return files.stream().filter(f -> f.path().equals(fileName) || f.fileName().equals(fileName))
                    .findFirst().orElseThrow(() -> new HubException(repo + " has no file " + fileName
                            + "; its GGUF files: " + names(ggufs)));
        }
        if (ggufs.isEmpty()) {
            throw new HubException(repo + " has no GGUF file (" + files.size() + " files): tinyedge runs GGUF "
                    + "models; look for a repository named ...-GGUF");
        }
        String wanted = quant != null ? quant : ggufs.size() == 1 ? null : PREFERRED_QUANT;
        if (wanted == null) {
            return ggufs.getFirst();
        }
        List<HubFile> matching = ggufs.stream().filter(f -> quantOf(f.fileName()).filter(wanted::equals).isPresent())
                .sorted(Comparator.comparing(HubFile::path)).toList();
        if (matching.isEmpty()) {
            throw new HubException(repo + " has no " + wanted + " GGUF; its quantizations: " + quants(ggufs)
                    + (quant == null ? " (name one: tinyedge pull " + repo + ":QUANT)" : ""));
        }
        return matching.getFirst();
    }

    private static String quants(List<HubFile> ggufs) {
        TreeSet<String> quants = new TreeSet<>();
        List<String> unnamed = new ArrayList<>();
        for (HubFile f : ggufs) {
            quantOf(f.fileName()).ifPresentOrElse(quants::add, () -> unnamed.add(f.fileName()));
        }
        List<String> all = new ArrayList<>(quants);
        all.addAll(unnamed);
        return String.join(", ", all);
    }

    private static String names(List<HubFile> ggufs) {
        return ggufs.isEmpty() ? "none" : String.join(", ", ggufs.stream().map(HubFile::path).toList());
    }
}
