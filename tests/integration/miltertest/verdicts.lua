-- Drives pmx-milter over the milter protocol (no MTA) and checks its answers.
-- miltertest -D sock=inet:PORT@127.0.0.1 -s verdicts.lua ; exits non-zero on the first failure.
local function check(cond, what)
  if not cond then mt.echo("not ok - " .. what); os.exit(1) end
  mt.echo("ok - " .. what)
end

-- One message: returns the connection after EOM.
local function message(from, rcpts, headers, body)
  local conn = mt.connect(sock, 5, 1)
  check(conn ~= nil, "connect to " .. sock)
  mt.conninfo(conn, "client.example.test", "192.0.2.10")
  mt.macro(conn, SMFIC_MAIL, "i", "MTQID" .. tostring(math.random(100000)))
  mt.mailfrom(conn, from)
  for _, r in ipairs(rcpts) do mt.rcptto(conn, r) end
  for _, h in ipairs(headers) do mt.header(conn, h[1], h[2]) end
  mt.eoh(conn)
  mt.bodystring(conn, body)
  mt.eom(conn)
  return conn
end

local c = message("<spammer@bad.test>", {"<bob@example.test>"}, {{"Subject", " hi"}}, "body\r\n")
check(mt.getreply(c) == SMFIR_REPLYCODE, "rejected sender gets a reply code (550 from the policy)")
mt.disconnect(c)

c = message("<alice@example.test>", {"<dave@example.test>"}, {{"Subject", " lunch"}}, "body\r\n")
check(mt.getreply(c) == SMFIR_ACCEPT or mt.getreply(c) == SMFIR_CONTINUE, "tagged message is accepted")
check(mt.eom_check(c, MT_HDRCHANGE, "Subject", " [TAGGED] lunch"), "subject tagged in place")
check(mt.eom_check(c, MT_HDRADD, "X-PMX-Test"), "header added")
mt.disconnect(c)

c = message("<alice@example.test>", {"<bob@example.test>", "<carol@example.test>"}, {{"Subject", " split"}}, "body\r\n")
check(mt.getreply(c) == SMFIR_ACCEPT or mt.getreply(c) == SMFIR_CONTINUE, "split message accepted for bob")
check(mt.eom_check(c, MT_RCPTDELETE, "<carol@example.test>"), "carol removed (her copy is quarantined)")
mt.disconnect(c)

c = message("<alice@example.test>", {"<carol@example.test>"}, {{"Subject", " only carol"}}, "body\r\n")
check(mt.getreply(c) == SMFIR_DISCARD, "all recipients quarantined: discarded from the MTA's queue")
mt.disconnect(c)
