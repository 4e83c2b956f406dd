# As root, once: a system user owning what FOOF writes (instance/ holds the secrets: 0700).
useradd --system --home-dir /srv/foof --shell /usr/sbin/nologin foof
mkdir -p /srv/foof/instance /srv/foof/upload /srv/foof/static/image/avatar /srv/foof/static/image/item
chown -R foof:foof /srv/foof/instance /srv/foof/upload /srv/foof/static/image
chmod 700 /srv/foof/instance
systemctl daemon-reload
systemctl enable --now foof
