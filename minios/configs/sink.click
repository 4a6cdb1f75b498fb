// sink.click - count and drop everything vif 0 receives (the pktgen target).
FromNetfront(0) -> rx :: Counter -> Sink;
