// bridge-firewall.click - a transparent firewall between two networks: vif 0
// (clients) and vif 1 (servers), e.g. two VLANs of one IPv4 subnet. Frames
// cross unchanged (same MACs), so both vifs need mac-lock=0; lossless=1 and
// TX rings above one 256-packet burst spare TCP drops at full rings:
//   vpio run --minios bridge-firewall.click
//     --vif vlan=10,mac-lock=0,lossless=1,tx-slots=1024
//     --vif vlan=20,mac-lock=0,lossless=1,tx-slots=1024
// ARP crosses both ways. IPv4 crosses when a rule allows it: ICMP both ways,
// TCP from vif 0 to port 5201 on vif 1 (iperf3) and its replies (edit 5201).
// Rules are stateless: first match wins; hits per rule in f01/f10's stats.
// Other IPv4 is denied (the last rule counts it), other frames go to nonip.
in0 :: FromNetfront(0);
in1 :: FromNetfront(1);
out0 :: ToNetfront(0);
out1 :: ToNetfront(1);
c0 :: Classifier(12/0806, 12/0800, -);      // ARP, IPv4, the rest
c1 :: Classifier(12/0806, 12/0800, -);
f01 :: IPFilter(allow icmp,
                allow tcp && dst port 5201,
                deny all);
f10 :: IPFilter(allow icmp,
                allow tcp && src port 5201,
                deny all);
nonip :: Sink;
in0 -> c0;
c0[0] -> out1;
c0[1] -> f01 -> out1;
c0[2] -> nonip;
in1 -> c1;
c1[0] -> out0;
c1[1] -> f10 -> out0;
c1[2] -> nonip;
