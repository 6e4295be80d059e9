package dev.tinyedge.translate;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The languages a request may name, by ISO 639-1 code. The English name is what the prompt tells the
 * model: small chat models follow "into Spanish" far better than "into es".
 */
public record Language(String code, String name) {
    /** The request's {@code source} when absent: the model is told to detect the language. */
    public static final String AUTO = "auto";

    private static final Map<String, String> NAMES = new TreeMap<>(Map.ofEntries(
            Map.entry("ar", "Arabic"), Map.entry("bg", "Bulgarian"), Map.entry("bn", "Bengali"),
            Map.entry("ca", "Catalan"), Map.entry("cs", "Czech"), Map.entry("da", "Danish"),
            Map.entry("de", "German"), Map.entry("el", "Greek"), Map.entry("en", "English"),
            Map.entry("es", "Spanish"), Map.entry("et", "Estonian"), Map.entry("fa", "Persian"),
            Map.entry("fi", "Finnish"), Map.entry("fr", "French"), Map.entry("he", "Hebrew"),
            Map.entry("hi", "Hindi"), Map.entry("hr", "Croatian"), Map.entry("hu", "Hungarian"),
            Map.entry("id", "Indonesian"), Map.entry("it", "Italian"), Map.entry("ja", "Japanese"),
            Map.entry("ko", "Korean"), Map.entry("lt", "Lithuanian"), Map.entry("lv", "Latvian"),
            Map.entry("ms", "Malay"), Map.entry("nl", "Dutch"), Map.entry("no", "Norwegian"),
            Map.entry("pl", "Polish"), Map.entry("pt", "Portuguese"), Map.entry("ro", "Romanian"),
            Map.entry("ru", "Russian"), Map.entry("sk", "Slovak"), Map.entry("sl", "Slovenian"),
            Map.entry("sr", "Serbian"), Map.entry("sv", "Swedish"), Map.entry("sw", "Swahili"),
            Map.entry("th", "Thai"), Map.entry("tl", "Tagalog"), Map.entry("tr", "Turkish"),
            Map.entry("uk", "Ukrainian"), Map.entry("ur", "Urdu"), Map.entry("vi", "Vietnamese"),
            Map.entry("zh", "Chinese")));

    /** The language for an ISO 639-1 code (any case), or empty when it is not in the table. */
    public static Optional<Language> of(String code) {
        String key = code.toLowerCase(Locale.ROOT);
        String name = NAMES.get(key);
        return name == null ? Optional.empty() : Optional.of(new Language(key, name));
    }

    /** All supported codes, sorted. */
    public static java.util.Set<String> codes() {
        return NAMES.keySet();
    }
}
