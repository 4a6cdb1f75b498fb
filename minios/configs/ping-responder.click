// ping-responder.click - answers ARP for 10.0.0.2, IPv4 echo, IPv6
// neighbour solicitations for fd00::2 and ICMPv6 echo; replies leave by
// buffer swap. Everything else is counted and dropped.
src :: FromNetfront(0);
out :: ToNetfront(0);
cls :: Classifier(12/0806 20/0001,     // ARP request
                  12/0800 23/01,       // IPv4 ICMP
                  12/86dd 20/3a,       # ICMPv6
                  -);
src -> cls;
cls[0] -> ARPResponder(10.0.0.2) -> out;
cls[1] -> ICMPPingResponder -> out;
cls[2] -> ICMPv6Responder(fd00::2) -> out;
cls[3] -> other :: Sink;
