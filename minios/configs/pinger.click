// pinger.click - 10.0.0.1 / fd00::1: pings 10.0.0.2 and fd00::2 (20 each,
// 100 ms apart; RTT percentiles are printed as {"event":"ping",...}) and
// answers ARP, neighbour solicitations and echo requests itself.
src :: FromNetfront(0);
out :: ToNetfront(0);
cls :: Classifier(12/0806 20/0001,        // 0 ARP request
                  12/0806 20/0002,        // 1 ARP reply
                  12/0800 23/01 34/08,    // 2 ICMP echo request
                  12/0800 23/01 34/00,    // 3 ICMP echo reply
                  12/86dd 20/3a 54/80,    // 4 ICMPv6 echo request
                  12/86dd 20/3a 54/87,    // 5 neighbour solicitation
                  12/86dd 20/3a 54/81,    // 6 ICMPv6 echo reply
                  12/86dd 20/3a 54/88,    // 7 neighbour advertisement
                  -);
ping4 :: Pinger(SRC_IP 10.0.0.1, DST_IP 10.0.0.2, MAC auto, INTERVAL 100, COUNT 20);
ping6 :: Pinger(SRC_IP fd00::1, DST_IP fd00::2, MAC auto, INTERVAL 100, COUNT 20);
v6 :: ICMPv6Responder(fd00::1);
src -> cls;
cls[0] -> ARPResponder(10.0.0.1) -> out;
cls[1] -> ping4;
cls[2] -> ICMPPingResponder -> out;
cls[3] -> ping4;
cls[4] -> v6;
cls[5] -> v6;
cls[6] -> ping6;
cls[7] -> ping6;
cls[8] -> Sink;
v6 -> out;
ping4 -> out;
ping6 -> out;
