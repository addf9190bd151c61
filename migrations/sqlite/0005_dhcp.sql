-- DHCP leases of `full` mode, one per MAC: written before the ACK goes out, so a restart
-- never hands a bound address to another client. Offers are held in memory only.

CREATE TABLE dhcp_leases (
    mac TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
