// firewall.click - a one-vif firewall in front of the sink: answers ARP for
// 10.0.0.1, lets UDP to ports 9000-9099 and ICMP through (rewritten to the
// sink's MAC: edit DST), drops UDP from 10.9.0.0/16 first, and everything
// else; hits are counted per rule.
src :: FromNetfront(0);
out :: ToNetfront(0);
cls :: Classifier(12/0806 20/0001, 12/0800, -);
fw :: IPFilter(deny src 10.9.0.0/16 && udp,
               allow udp && dst port 9000-9099,
               allow icmp,
               deny all);
src -> cls;
cls[0] -> ARPResponder(10.0.0.1) -> out;
cls[1] -> fw -> passed :: Counter -> EtherRewrite(SRC auto, DST 02:00:00:00:00:02) -> out;
cls[2] -> nonip :: Sink;
