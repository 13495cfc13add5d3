package com.android.installreferrer.api;

import android.content.Context;
import android.os.DeadObjectException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test double of the Play Install Referrer client, under the library's class name so the SDK's
 * reflection finds it: each test sets {@link #behaviour} (and the referrer it returns), and
 * reads how often a connection was started.
 */
public class InstallReferrerClient {
    /** What a connection does. */
    public enum Behaviour { FOUND, SECURITY_EXCEPTION, DEAD_OBJECT, FEATURE_NOT_SUPPORTED, NEVER_ANSWERS, UNAVAILABLE_ONCE }

    public static volatile Behaviour behaviour = Behaviour.FOUND;
    public static volatile String referrer = "utm_source=pinterest&utm_medium=cpc&epik=referrer-click";
    public static volatile long clickSeconds = 0;
    public static volatile long installBeginSeconds = 0;
    public static final AtomicInteger connections = new AtomicInteger();
    public static final AtomicInteger ended = new AtomicInteger();

    /** The library's response codes used here. */
    static final int OK = 0;
    static final int SERVICE_UNAVAILABLE = 1;
    static final int FEATURE_NOT_SUPPORTED = 2;

    /** Back to the defaults. */
    public static void reset() {
        behaviour = Behaviour.FOUND;
        referrer = "utm_source=pinterest&utm_medium=cpc&epik=referrer-click";
        clickSeconds = 0;
        installBeginSeconds = 0;
        connections.set(0);
        ended.set(0);
    }

    public static Builder newBuilder(Context context) {
        return new Builder();
    }

    /** As the library's builder. */
    public static class Builder {
        public InstallReferrerClient build() {
            return new InstallReferrerClient();
        }
    }

    public void startConnection(InstallReferrerStateListener listener) throws DeadObjectException {
        int attempt = connections.incrementAndGet();
        switch (behaviour) {
            case FOUND:
                listener.onInstallReferrerSetupFinished(OK);
                break;
            case SECURITY_EXCEPTION:
                throw new SecurityException("not allowed to bind to the referrer service");
            case DEAD_OBJECT:
                throw new DeadObjectException();
            case FEATURE_NOT_SUPPORTED:
                listener.onInstallReferrerSetupFinished(FEATURE_NOT_SUPPORTED);
                break;
            case NEVER_ANSWERS:
                break;
            case UNAVAILABLE_ONCE:
                listener.onInstallReferrerSetupFinished(attempt == 1 ? SERVICE_UNAVAILABLE : OK);
                break;
        }
    }

    public ReferrerDetails getInstallReferrer() {
        return new ReferrerDetails(referrer, clickSeconds, installBeginSeconds);
    }

    public void endConnection() {
        ended.incrementAndGet();
    }
}
