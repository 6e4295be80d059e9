package dev.tinyedge.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.service.ProtocolJson;
import dev.tinyedge.service.Reply;
import dev.tinyedge.service.Request;
import dev.tinyedge.service.ServeConfig;
import dev.tinyedge.service.TranslationClient;
import dev.tinyedge.translate.EngineTranslator;
import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.Translation;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "translate", mixinStandardHelpOptions = true,
        description = {"Translates TEXT with a local model (--model), or through a daemon over MQTT (--broker)."})
public final class TranslateCommand implements Callable<Integer> {
    @ArgGroup(multiplicity = "1")
    Where where;

    static final class Where {
        @Option(names = "--model", paramLabel = "MODEL", description = "translate locally with this GGUF model")
        Path model;

        @Option(names = "--broker", paramLabel = "URL", description = "send to a daemon: tcp://host:1883")
        String broker;
    }

    @Option(names = "--to", required = true, paramLabel = "LANG", description = "target language (ISO 639-1)")
    String to;

    @Option(names = "--from", paramLabel = "LANG", description = "source language (ISO 639-1); default: detected")
    String from;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Option(names = "--stream", description = "print the translation as it is generated")
    boolean stream;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256", description = "cap on generated tokens")
    int maxTokens;

    @Option(names = "--topic-prefix", paramLabel = "P", defaultValue = "tinyedge", description = "with --broker")
    String topicPrefix;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "with --broker: how long to wait for the reply in all")
    int timeoutSeconds;

    @Option(names = "--retry-after", paramLabel = "SECONDS", defaultValue = "30",
            description = "with --broker: send the request again (same id) after this long without a reply")
    int retryAfterSeconds;

    @Option(names = "--id", paramLabel = "ID", description = "with --broker: the request id (default: random)")
    String id;

    @Option(names = "--config", paramLabel = "FILE", description = {"with --broker: connect with the user name, "
            + "password_file, ca_file, cert_file and key_file of this file's [mqtt] section (a serve configuration)"})
    Path config;

    @Option(names = "--prefix-cache", description = {"with --model: evaluate the instructions when the model loads, "
            + "as 'serve' does, so that timing_ms.prefill is the daemon's time to first token"})
    boolean prefixCache;

    @Parameters(paramLabel = "TEXT", description = "the text to translate")
    String text;

    private final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    @Override
    public Integer call() throws Exception {
        Language target = language(to, "--to");
        Language source = from == null || from.equals(Language.AUTO) ? null : language(from, "--from");
        if (text.isBlank()) {
            throw new Main.UsageException("TEXT is empty");
        }
        return where.model != null ? local(source, target) : remote(source, target);
    }

    private int local(Language source, Language target) throws Exception {
        EngineTranslator translator;
        try {
            translator = EngineTranslator.load(where.model, new EngineOptions(0, 0, "cpu"), prefixCache);
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(where.model, e);
        }
        try (translator) {
            long start = System.nanoTime();
            Translation translation = translator.translate(text, source, target, maxTokens,
                    piece -> {
                        if (stream && !json) {
                            out.print(piece);
                        }
                    }, () -> false);
            long totalMs = (System.nanoTime() - start) / 1_000_000;
            if (json) {
                Request request = new Request(null, text, target, source, false, maxTokens);
                ObjectNode result = ProtocolJson.tree(Reply.Result.of(request, translation, translator.modelName(),
                        "local", 0, totalMs));
                result.remove("id");
                out.println(result);
            } else {
                out.println(stream ? "" : translation.text());
            }
        }
        return 0;
    }

    private int remote(Language source, Language target) throws Exception {
        if (timeoutSeconds <= 0 || retryAfterSeconds <= 0) {
            throw new Main.UsageException("--timeout and --retry-after take a number of seconds above 0");
        }
        Request request = new Request(id, text, target, source, stream, maxTokens);
        Reply.Final reply;
        ServeConfig.Mqtt security = config == null ? new ServeConfig.Mqtt() : ServeConfig.read(config).mqtt;
        try (TranslationClient client = new TranslationClient(where.broker, topicPrefix, security)) {
            reply = client.translate(request, Duration.ofSeconds(retryAfterSeconds), Duration.ofSeconds(timeoutSeconds),
                    partial -> {
                        if (!json) {
                            out.print(partial.delta());
                        }
                    });
        }
        if (json) {
            out.println(new String(ProtocolJson.write(reply), StandardCharsets.UTF_8));
        }
        return switch (reply) {
            case Reply.Result result -> {
                if (!json) {
                    out.println(stream ? "" : result.translation());
                }
                yield 0;
            }
            case Reply.Failure failure -> throw new IllegalStateException("the daemon answered "
                    + failure.code().wireName() + ": " + failure.message());
            case Reply.Busy busy -> throw new IllegalStateException("the daemon answered busy: " + busy.message());
        };
    }

    private static Language language(String code, String option) {
        return Language.of(code).orElseThrow(() -> new Main.UsageException(option + " '" + code
                + "' is not a supported language; use an ISO 639-1 code, one of " + String.join(", ", Language.codes())));
    }
}
