package dev.tinyedge.eval;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.Translation;
import dev.tinyedge.translate.Translator;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Translates a test set and scores it: corpus chrF and chrF++ (as sacreBLEU computes them), speed, and the
 * sentences that scored worst. The same {@link Translator} the daemon serves with, so the score is the
 * daemon's score.
 */
public final class Evaluation {
    private Evaluation() {
    }

    /** One sentence: what went in, what came out, its own chrF, and what it cost. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Sentence(int line, String source, String reference, String hypothesis, double chrf,
                           Integer promptTokens, Integer generatedTokens, Long ms) {
    }

    /**
     * The whole run. Speeds are null when the hypotheses were given rather than generated.
     *
     * @param generatedTokensPerS generated tokens per second of translating (prefill included)
     * @param decodeTokensPerS    generated tokens per second of decoding alone
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Report(String model, String from, String to, int pairs, double chrf, double chrfPlusPlus,
                         Double seconds, Double sentencesPerS, Long promptTokens, Long generatedTokens,
                         Double generatedTokensPerS, Double decodeTokensPerS, List<Sentence> worst,
                         List<Sentence> sentences) {
    }

    /** Translates every pair's source with {@code translator}; {@code done} hears the count after each. */
    public static Report translate(Translator translator, List<SentencePairs.Pair> pairs, Language from, Language to,
                                   int maxTokens, int worst, IntConsumer done) {
        List<Sentence> sentences = new ArrayList<>();
        long promptTokens = 0;
        long generatedTokens = 0;
        long decodeMs = 0;
        long decodedTokens = 0;
        long started = System.nanoTime();
        for (SentencePairs.Pair pair : pairs) {
            long t0 = System.nanoTime();
            Translation t = translator.translate(pair.source(), from, to, maxTokens, piece -> { }, () -> false);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            promptTokens += t.promptTokens();
            generatedTokens += t.generatedTokens();
            if (t.generatedTokens() > 1) {
                decodeMs += t.decodeMs();
                decodedTokens += t.generatedTokens() - 1;
            }
            sentences.add(new Sentence(pair.line(), pair.source(), pair.reference(), t.text(),
                    Chrf.chrF().sentenceScore(t.text(), pair.reference()), t.promptTokens(), t.generatedTokens(), ms));
            done.accept(sentences.size());
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        return report(translator.modelName(), from, to, sentences, worst, seconds, promptTokens, generatedTokens,
                generatedTokens / seconds, decodeMs == 0 ? null : decodedTokens * 1000.0 / decodeMs);
    }

    /**
     * Scores translations made elsewhere (another system's output): one line per pair, or one line per line of
     * the pairs file (blank lines included, as a system run over that file writes them).
     */
    public static Report score(String system, List<SentencePairs.Pair> pairs, List<String> hypotheses, Language from,
                               Language to, int worst) {
        boolean perPair = hypotheses.size() == pairs.size();
        if (!perPair && hypotheses.size() < pairs.getLast().line()) {
            throw new IllegalArgumentException(hypotheses.size() + " hypotheses for " + pairs.size()
                    + " sentence pairs on " + pairs.getLast().line() + " lines: give one per pair or one per line");
        }
        List<Sentence> sentences = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            SentencePairs.Pair pair = pairs.get(i);
            String hypothesis = hypotheses.get(perPair ? i : pair.line() - 1).strip();
            sentences.add(new Sentence(pair.line(), pair.source(), pair.reference(), hypothesis,
                    Chrf.chrF().sentenceScore(hypothesis, pair.reference()), null, null, null));
        }
        return report(system, from, to, sentences, worst, null, null, null, null, null);
    }

    private static Report report(String model, Language from, Language to, List<Sentence> sentences, int worst,
                                 Double seconds, Long promptTokens, Long generatedTokens, Double tokensPerS,
                                 Double decodePerS) {
        List<String> hyps = sentences.stream().map(Sentence::hypothesis).toList();
        List<String> refs = sentences.stream().map(Sentence::reference).toList();
        List<Sentence> lowest = sentences.stream().sorted(Comparator.comparingDouble(Sentence::chrf)
                .thenComparingInt(Sentence::line)).limit(worst).toList();
        return new Report(model, from == null ? null : from.code(), to.code(), sentences.size(),
                Chrf.chrF().corpusScore(hyps, refs), Chrf.chrFPlusPlus().corpusScore(hyps, refs), seconds,
                seconds == null ? null : sentences.size() / seconds, promptTokens, generatedTokens, tokensPerS,
                decodePerS, lowest, sentences);
    }
}
