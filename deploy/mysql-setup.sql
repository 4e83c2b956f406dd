-- As the MariaDB/MySQL root user: the database and FOOF's own account (init-db needs CREATE,
-- INDEX and ALTER for the new tables and indexes; backups need LOCK TABLES and SHOW VIEW).
CREATE DATABASE foof CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'foof'@'localhost' IDENTIFIED BY 'change-this-password';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER, DROP, LOCK TABLES, SHOW VIEW ON foof.* TO 'foof'@'localhost';
FLUSH PRIVILEGES;
