# Sourced by load.sh and profile.sh: the nginx both run beside Portico, configured alike so
# that their figures compare the same proxy.
#
#   nginx_conf DIR LISTEN BACKEND [DIRECTIVE]...   writes DIR/nginx.conf

nginx_conf() {
  local dir=$1 listen=$2 backend=$3
  shift 3
  {
    echo "worker_processes 1;"
    for directive in "$@"; do echo "$directive"; done
    cat <<NGINX
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 16384; }
http {
  access_log off;
  upstream bare { server $backend; keepalive 128; }
  server {
    listen $listen;
    location / { proxy_pass http://bare; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  } > "$dir/nginx.conf"
}
