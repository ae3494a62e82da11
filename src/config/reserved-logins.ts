/**
 * Login names a principal template (`{{user.username}}`) may never render to, whoever asks: the
 * system accounts a Debian or Ubuntu host has under uid 1000, the names cloud images give their
 * sudo-capable default user, and generic administrator names. A resource may still list one of
 * these literally (`principals: [root]`): that is a decision someone made in review, not a
 * coincidence of someone's email address. Workflow files add more with `reserved_logins`.
 */
export const BUILTIN_RESERVED_LOGINS: readonly string[] = [
  'root', 'toor', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy',
  'www-data', 'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', '_apt', 'sshd', 'messagebus',
  'systemd-network', 'systemd-resolve', 'systemd-timesync', 'systemd-journal', 'systemd-coredump',
  'polkitd', 'syslog', 'uuidd', 'tcpdump', 'landscape', 'pollinate', 'lxd', 'dnsmasq', 'avahi',
  'postfix', 'ntp', 'chrony', 'statd', 'postgres', 'mysql', 'redis', 'mongodb', 'nginx', 'apache',
  'admin', 'administrator', 'superuser', 'operator', 'ubuntu', 'debian', 'ec2-user', 'centos',
  'fedora', 'core', 'azureuser', 'cloud-user', 'opc', 'vagrant', 'git', 'docker', 'kube', 'k8s',
  'system', 'service', 'wheel', 'sudo', 'adm', 'staff', 'shadow', 'disk', 'kmem', 'tty',
];
