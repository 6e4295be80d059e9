package dev.tinyedge.service;

/**
 * {@link ServeFaultTest}'s kills and restarts with daemons that translate four requests at once (continuous
 * batching): a kill or a broker restart with several requests mid-generation loses none of them either.
 */
class ServeFaultParallelTest extends ServeFaultTest {
    @Override
    int parallel() {
        return 4;
    }
}
