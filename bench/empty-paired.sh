#!/bin/bash
# Paired whole-process timings: ours (fresh install) vs the baseline build (replay), interleaved, on fresh databases.
OURS=${OURS:-$(dirname "$0")/../dist/bin/heat-manage.js}
BASE=${BASE:-../main/dist/bin/heat-manage.js}
echo > /tmp/fresh-empty.conf; chmod 600 /tmp/fresh-empty.conf
t() { local s=$(date +%s.%N); OS_DATABASE__CONNECTION=$1 node $2 --config-file /tmp/fresh-empty.conf db_sync >/dev/null 2>&1 || echo FAIL >&2; echo "$(date +%s.%N) - $s" | bc; }
for b in mysql postgresql sqlite; do
  for i in 1 2 3 4 5; do
    for who in ours base; do
      n=pair_${who}_$i
      case $b in
        mysql) mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $n; CREATE DATABASE $n"; u=mysql://root@127.0.0.1:3306/$n;;
        postgresql) psql -U postgres -h 127.0.0.1 -qc "DROP DATABASE IF EXISTS $n" ; psql -U postgres -h 127.0.0.1 -qc "CREATE DATABASE $n"; u=postgresql://postgres@127.0.0.1:5432/$n;;
        sqlite) rm -f /tmp/$n.sqlite; u=sqlite:////tmp/$n.sqlite;;
      esac
      f=$OURS; [ $who = base ] && f=$BASE
      bare=$( s=$(date +%s.%N); node -e ""; echo "$(date +%s.%N) - $s" | bc )
      echo "$b $who $i $(t $u $f) bare $bare load $(cut -d' ' -f1 /proc/loadavg)"
      case $b in
        mysql) mysql -uroot -h127.0.0.1 -e "DROP DATABASE $n";;
        postgresql) psql -U postgres -h 127.0.0.1 -qc "DROP DATABASE $n";;
        sqlite) rm -f /tmp/$n.sqlite;;
      esac
    done
  done
done
