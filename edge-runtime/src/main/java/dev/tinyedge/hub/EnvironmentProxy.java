package dev.tinyedge.hub;

import java.io.IOException;
import java.net.Authenticator;
import java.net.InetSocketAddress;
import java.net.PasswordAuthentication;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The proxy variables curl, pip and huggingface_hub read, which the JDK does not: {@code HTTPS_PROXY} for
 * https URLs, {@code HTTP_PROXY} for http ones, {@code ALL_PROXY} for both, lower-case spellings too, and
 * {@code NO_PROXY} (comma-separated host names, {@code .domain} suffixes, or {@code *}). A proxy URL may carry
 * {@code user:password@}.
 */
final class EnvironmentProxy extends ProxySelector {
    private final URI https;
    private final URI http;
    private final List<String> noProxy;

    private EnvironmentProxy(URI https, URI http, List<String> noProxy) {
        this.https = https;
        this.http = http;
        this.noProxy = noProxy;
    }

    /** The selector the variables describe, or empty when they name no proxy. */
    static Optional<EnvironmentProxy> from(Map<String, String> env) {
        URI all = proxyUri(env, "ALL_PROXY");
        URI https = Optional.ofNullable(proxyUri(env, "HTTPS_PROXY")).orElse(all);
        URI http = Optional.ofNullable(proxyUri(env, "HTTP_PROXY")).orElse(all);
        if (https == null && http == null) {
            return Optional.empty();
        }
        String no = variable(env, "NO_PROXY");
        List<String> noProxy = no == null ? List.of() : Arrays.stream(no.split(","))
                .map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();
        return Optional.of(new EnvironmentProxy(https, http, noProxy));
    }

    @Override
    public List<Proxy> select(URI uri) {
        URI proxy = "https".equalsIgnoreCase(uri.getScheme()) ? https : http;
        if (proxy == null || bypassed(uri.getHost())) {
            return List.of(Proxy.NO_PROXY);
        }
        int port = proxy.getPort() > 0 ? proxy.getPort() : ("https".equals(proxy.getScheme()) ? 443 : 80);
        return List.of(new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved(proxy.getHost(), port)));
    }

    @Override
    public void connectFailed(URI uri, SocketAddress address, IOException failure) {
    }

    /** Answers the proxies' requests for credentials with the {@code user:password} of their URLs, if any. */
    Optional<Authenticator> authenticator() {
        if (userInfo(https) == null && userInfo(http) == null) {
            return Optional.empty();
        }
        // the JDK refuses Basic authentication to a proxy that tunnels https unless told otherwise
        if (System.getProperty("jdk.http.auth.tunneling.disabledSchemes") == null) {
            System.setProperty("jdk.http.auth.tunneling.disabledSchemes", "");
        }
        return Optional.of(new Authenticator() {
            @Override
            protected PasswordAuthentication getPasswordAuthentication() {
                if (getRequestorType() != RequestorType.PROXY) {
                    return null;
                }
                for (URI proxy : new URI[]{https, http}) {
                    String info = userInfo(proxy);
                    if (info != null && proxy.getHost().equalsIgnoreCase(getRequestingHost())) {
                        int colon = info.indexOf(':');
                        String user = colon < 0 ? info : info.substring(0, colon);
                        String password = colon < 0 ? "" : info.substring(colon + 1);
                        return new PasswordAuthentication(decode(user), decode(password).toCharArray());
                    }
                }
                return null;
            }
        });
    }

    private boolean bypassed(String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        for (String entry : noProxy) {
            String name = entry.replaceFirst(":\\d+$", "");
            if (name.equals("*") || h.equals(name) || h.equals(name.replaceFirst("^\\.", ""))
                    || h.endsWith(name.startsWith(".") ? name : "." + name)) {
                return true;
            }
        }
        return false;
    }

    private static URI proxyUri(Map<String, String> env, String name) {
        String value = variable(env, name);
        if (value == null) {
            return null;
        }
        URI uri = URI.create(value.contains("://") ? value : "http://" + value);
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(name + " is not a proxy URL: " + value);
        }
        return uri;
    }

    private static String variable(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            value = env.get(name.toLowerCase(Locale.ROOT));
        }
        return value == null || value.isBlank() ? null : value.strip();
    }

    private static String userInfo(URI proxy) {
        return proxy == null ? null : proxy.getRawUserInfo();
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
