-- milter.ipblock_at_connect: pmx-milter asks pmx-ipblockd in the connect step (as a sendmail
-- site would use it). miltertest -D sock=... -s connect.lua
local function check(cond, what)
  if not cond then mt.echo("not ok - " .. what); os.exit(1) end
  mt.echo("ok - " .. what)
end

local conn = mt.connect(sock, 5, 1)
check(conn ~= nil, "connect to " .. sock)
mt.conninfo(conn, "blocked.example.test", "192.0.2.66")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "a blocked client is refused at connect with a reply code")
mt.disconnect(conn)

conn = mt.connect(sock, 5, 1)
mt.conninfo(conn, "fine.example.test", "192.0.2.10")
check(mt.getreply(conn) == SMFIR_CONTINUE, "an unlisted client continues")
mt.disconnect(conn)
