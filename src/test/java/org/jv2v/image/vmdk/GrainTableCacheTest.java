package org.jv2v.image.vmdk;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The grain table cache stays within its budget whatever is asked of it, dropping the oldest first. */
class GrainTableCacheTest {
    @Test
    void staysWithinBudgetAndKeepsRecentTables() {
        long budget = 100 * (8 * 512 + 64);
        GrainTableCache cache = new GrainTableCache(budget);
        int a = cache.newExtentId();
        int b = cache.newExtentId();
        for (int t = 0; t < 1000; t++) {
            cache.put(a, t, new long[512]);
            if (t == 10) {
                cache.put(b, 7, new long[512]);
            }
            cache.get(b, 7);                         // kept alive by use
            assertThat(cache.usedBytes()).isLessThanOrEqualTo(budget);
        }
        assertThat(cache.get(a, 0)).isNull();
        assertThat(cache.get(a, 999)).isNotNull();
        assertThat(cache.get(b, 7)).isNotNull();
        cache.drop(b);
        assertThat(cache.get(b, 7)).isNull();
        assertThat(cache.usedBytes()).isEqualTo(99 * (8 * 512 + 64));
    }
}
