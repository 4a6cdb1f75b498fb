// mirror.click - reflect every frame back to its sender (MACs swapped),
// forwarding by buffer swap inside the vif (no copy).
src :: FromNetfront(0);
count :: Counter;
src -> count -> EtherMirror -> ToNetfront(0);
