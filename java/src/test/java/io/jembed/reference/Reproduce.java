package io.jembed.reference;

/**
 * The seeds of the randomized differential tests. Every test has a fixed base seed, so that a run is reproducible;
 * {@code -Djembed.test.seed=N} replaces it (for instance to rerun a failure, or to explore other cases), and
 * {@code -Djembed.test.cases=N} changes how many random cases the randomized tests draw. Every failure message
 * names the base seed, the case and the case's own seed.
 */
final class Reproduce {
    static final String SEED_PROPERTY = "jembed.test.seed";
    static final String CASES_PROPERTY = "jembed.test.cases";

    private Reproduce() {}

    /** The base seed: {@code -Djembed.test.seed} if given (decimal or 0x hex), else {@code fixed}. */
    static long baseSeed(long fixed) {
        String value = System.getProperty(SEED_PROPERTY, "").trim();
        if (value.isEmpty()) {
            return fixed;
        }
        return value.startsWith("0x") ? Long.parseUnsignedLong(value.substring(2), 16) : Long.parseLong(value);
    }

    /** The number of random cases: {@code -Djembed.test.cases} if given, else {@code fixed}. */
    static int cases(int fixed) {
        String value = System.getProperty(CASES_PROPERTY, "").trim();
        return value.isEmpty() ? fixed : Integer.parseInt(value);
    }

    /** A well-mixed seed for case {@code index} of a run with {@code baseSeed} (SplitMix64's finaliser). */
    static long caseSeed(long baseSeed, int index) {
        long z = baseSeed + 0x9E3779B97F4A7C15L * (index + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The prefix of every failure message: how to rerun exactly this run. */
    static String header(long baseSeed, int caseIndex, long caseSeed) {
        return "[-D" + SEED_PROPERTY + "=" + baseSeed + ", case " + caseIndex + " (case seed " + caseSeed
                + "), backend " + io.jembed.backend.Backends.current().name() + "] ";
    }
}
