package dev.tinyedge.translate;

import dev.tinyedge.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays out a translation prompt as tokens. Only the template's markers can become control tokens: the text
 * between them (instructions and the user's text) is tokenized with {@code parseSpecial=false}, so a request
 * containing {@code </s>} or {@code <|im_end|>} cannot end its turn or start another. Like llama.cpp, each
 * stretch of text after a control token is tokenized on its own.
 */
final class PromptBuilder {
    private static final String SYSTEM_SLOT = "{system}";
    private static final String USER_SLOT = "{user}";

    /**
     * @param sharedPrefix how many leading tokens are the same for every request (BOS when the vocabulary adds
     *                     one, and the instructions):
     *                     their KV cache entries are computed once
     */
    record Prompt(int[] tokens, int sharedPrefix) {
    }

    private final Tokenizer tokenizer;
    private final PromptFormat format;
    private final Map<String, Integer> controlTokens = new HashMap<>();
    private final List<String> stopStrings = new ArrayList<>();

    PromptBuilder(Tokenizer tokenizer, PromptFormat format) {
        this.tokenizer = tokenizer;
        this.format = format;
        Map<String, Integer> controlByPiece = new HashMap<>();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            if (tokenizer.isControl(id)) {
                controlByPiece.putIfAbsent(tokenizer.piece(id), id);
            }
        }
        for (String marker : format.markers()) {
            Integer id = controlByPiece.get(marker);
            if (id != null) {
                controlTokens.put(marker, id);
            } else {
                stopStrings.add(marker);
            }
        }
    }

    /** Markers the model can only write as text: generated text is cut where one appears. */
    List<String> stopStrings() {
        return stopStrings;
    }

    Prompt build(String userMessage) {
        List<Integer> tokens = new ArrayList<>();
        if (tokenizer.addsBos()) {
            tokens.add(tokenizer.bos());
        }
        StringBuilder text = new StringBuilder();
        int sharedPrefix = -1;
        String layout = format.layout();
        int i = 0;
        while (i < layout.length()) {
            if (layout.startsWith(SYSTEM_SLOT, i)) {
                text.append(format.instructions());
                if (format == PromptFormat.PLAIN) {
                    // no control token separates the examples from the request: end the text there so the
                    // examples tokenize the same for every request
                    flush(text, tokens);
                }
                i += SYSTEM_SLOT.length();
            } else if (layout.startsWith(USER_SLOT, i)) {
                if (sharedPrefix < 0) {
                    sharedPrefix = tokens.size();
                }
                text.append(userMessage);
                i += USER_SLOT.length();
            } else {
                String marker = markerAt(layout, i);
                if (marker != null && controlTokens.containsKey(marker)) {
                    flush(text, tokens);
                    tokens.add(controlTokens.get(marker));
                    i += marker.length();
                } else {
                    text.append(layout.charAt(i++));
                }
            }
        }
        flush(text, tokens);
        return new Prompt(tokens.stream().mapToInt(Integer::intValue).toArray(), sharedPrefix);
    }

    private String markerAt(String layout, int at) {
        for (String marker : format.markers()) {
            if (layout.startsWith(marker, at)) {
                return marker;
            }
        }
        return null;
    }

    private void flush(StringBuilder text, List<Integer> tokens) {
        if (!text.isEmpty()) {
            Arrays.stream(tokenizer.encode(text.toString(), false, false)).forEach(tokens::add);
            text.setLength(0);
        }
    }

    /** Tokens of the text alone, for sizing the answer's budget. */
    int countTokens(String text) {
        return tokenizer.encode(text, false, false).length;
    }
}
