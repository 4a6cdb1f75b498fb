// pktgen.click - 60-byte UDP frames as fast as the TX ring takes them,
// written in place into TX buffers, to the sink's MAC (edit DST_MAC).
// RATE 0 = max, COUNT 0 = forever, BURST 256.
gen :: Pktgen(SRC_MAC auto, DST_MAC 02:00:00:00:00:02, SRC_IP 10.0.0.1, DST_IP 10.0.0.2,
              LEN 60, RATE 0, COUNT 0, BURST 256);
gen -> tx :: Counter -> ToNetfront(0);
FromNetfront(0) -> Sink;   // drain whatever arrives
