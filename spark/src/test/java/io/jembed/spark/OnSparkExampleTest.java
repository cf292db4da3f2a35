package io.jembed.spark;

import io.jembed.examples.spark.OnSpark;
import org.junit.jupiter.api.Test;

/** The README's "On Spark" snippet (examples/.../spark/OnSpark.java) compiles here and runs, checking its numbers. */
class OnSparkExampleTest {
    @Test
    void theReadmeSnippetRunsAndGivesTheNumbersWorkedOutByHand() throws Exception {
        LocalSpark.session();
        OnSpark.main(new String[0]);
    }
}
