package dev.tinyedge.hub;

import java.io.IOException;
import java.net.http.HttpHeaders;

/**
 * A download that cannot go on, with a one-line message that says what to do. The hub's answers are read as
 * huggingface_hub reads them: {@code X-Error-Code} names gated repositories ({@code GatedRepo}), missing ones
 * ({@code RepoNotFound}, which the hub also sends as 401 to a caller without a token, so that a private
 * repository cannot be told from a missing one) and missing files ({@code EntryNotFound}).
 */
public final class HubException extends IOException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The error for a response that is neither a success nor a redirect. */
    static HubException forStatus(int status, HttpHeaders headers, String endpoint, String repo, String what,
                                  boolean withToken) {
        String code = headers.firstValue("X-Error-Code").orElse("");
        String message = headers.firstValue("X-Error-Message").map(m -> ": " + m).orElse("");
        String page = endpoint + "/" + repo;
        if (code.equals("GatedRepo")) {
            return new HubException(withToken
                    ? repo + " is gated and the account of HF_TOKEN has no access yet: accept its licence at " + page
                    : repo + " is gated: accept its licence at " + page + ", then set HF_TOKEN to an access token "
                            + "of that account (" + status + ")");
        }
        if (code.equals("RepoNotFound") || (status == 401 && !withToken)) {
            return new HubException("no repository " + repo + " at " + endpoint + " (" + status + "); if it is "
                    + "private or gated, set HF_TOKEN");
        }
        if (status == 401) {
            return new HubException(endpoint + " refused HF_TOKEN (401" + message + "): check the token");
        }
        if (status == 403) {
            return new HubException(endpoint + " refused access to " + repo + " (403" + message + "): "
                    + "check that the account of HF_TOKEN may read it");
        }
        if (code.equals("EntryNotFound") || status == 404) {
            return new HubException(repo + " has no " + what + " (404)");
        }
        if (status == 429) {
            return new HubException(endpoint + " asks to slow down (429): run pull again in a minute");
        }
        if (status >= 500) {
            return new HubException(endpoint + " answered " + status + " for " + what + ": the hub has a problem; "
                    + "run pull again later (what was downloaded is kept and resumed)");
        }
        return new HubException(endpoint + " answered " + status + message + " for " + what);
    }
}
