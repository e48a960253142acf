// SPDX-License-Identifier: GPL-2.0
/*
 * bypass_uio: a UIO driver for PCI devices that a user-space driver (bypass)
 * runs, with MSI-X, MSI or INTx.
 *
 * uio_pci_generic gives user space INTx only: no MSI, no MSI-X, and nothing
 * at all for a device without INTx, such as an SR-IOV virtual function. This
 * driver enables the device, exposes its BARs as UIO maps (memory) and port
 * regions (I/O), and delivers one interrupt vector through /dev/uioN:
 *   read() of 4 bytes  waits for the next interrupt and returns the count;
 *   write() of 1 or 0  unmasks or masks the vector (irqcontrol).
 * Interrupts are requested when the device is first opened and released when
 * it is last closed; bus mastering is switched off then too, so a process
 * that dies cannot leave the device writing into memory it no longer owns.
 *
 * It has no id table: devices come to it through driver_override or new_id
 * (bypass bind --driver bypass_uio does this). Virtual functions are made
 * through the PF's standard sriov_numvfs file.
 *
 * Written from Documentation/driver-api/uio-howto.rst,
 * Documentation/PCI/pci.rst and Documentation/PCI/msi-howto.rst.
 */
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/uio_driver.h>

/* Newer kernels name it PCI_IRQ_INTX (6.10 dropped PCI_IRQ_LEGACY). */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

#define DRV_NAME "bypass_uio"
#define DRV_VERSION "0.1"

enum bu_mode { BU_NONE, BU_LEGACY, BU_MSI, BU_MSIX };
static const char *const bu_mode_names[] = {
	[BU_NONE] = "none", [BU_LEGACY] = "legacy", [BU_MSI] = "msi", [BU_MSIX] = "msix",
};

static char *intr_mode = "msix";
module_param(intr_mode, charp, 0444);
MODULE_PARM_DESC(intr_mode,
		 "first interrupt mode to try: msix, msi, legacy or none; each device falls back msix -> msi -> legacy -> none");

static enum bu_mode first_mode;

struct bu_dev {
	struct uio_info info;
	struct pci_dev *pdev;
	enum bu_mode mode;
	unsigned int irq;	/* Linux interrupt of the one vector, when mode != BU_NONE */
	char irq_name[32];

	struct mutex lock;	/* openers, irq_requested, removed */
	unsigned int openers;
	bool irq_requested;
	bool removed;

	spinlock_t mask_lock;	/* irq_live, masked */
	bool irq_live;		/* irqcontrol may act: the vector is ours */
	bool masked;		/* MSI/MSI-X vector masked through irqcontrol */
};

static irqreturn_t bu_interrupt(int irq, void *arg)
{
	struct bu_dev *bu = arg;

	/*
	 * INTx may be shared: the Interrupt Status bit says whether it was this
	 * device, and the Interrupt Disable bit masks it until user space has
	 * handled the cause and unmasks it (PCI 3.0 6.2.2, 6.2.3).
	 */
	if (bu->mode == BU_LEGACY && !pci_check_and_mask_intx(bu->pdev))
		return IRQ_NONE;
	uio_event_notify(&bu->info);
	return IRQ_HANDLED;
}

/* irqcontrol: 1 unmasks the vector, 0 masks it. */
static int bu_irqcontrol(struct uio_info *info, s32 on)
{
	struct bu_dev *bu = info->priv;
	unsigned long flags;
	int err = 0;

	if (bu->mode == BU_NONE)
		return -ENOSYS;
	/*
	 * remove() frees the vector before UIO stops calling us: from then on
	 * a write must neither unmask INTx (no handler left on a shared line)
	 * nor touch a vector we no longer own.
	 */
	spin_lock_irqsave(&bu->mask_lock, flags);
	if (!bu->irq_live) {
		err = -ENODEV;
	} else if (bu->mode == BU_LEGACY) {
		pci_intx(bu->pdev, !!on);
	} else if (on && bu->masked) {
		/* The interrupt core masks the vector at the device (MSI-X
		 * vector control, MSI mask bits where present); keep the
		 * enable/disable calls balanced. */
		enable_irq(bu->irq);
		bu->masked = false;
	} else if (!on && !bu->masked) {
		disable_irq_nosync(bu->irq);
		bu->masked = true;
	}
	spin_unlock_irqrestore(&bu->mask_lock, flags);
	return err;
}

/* Under bu->lock. */
static void bu_free_irq(struct bu_dev *bu)
{
	unsigned long flags;

	if (!bu->irq_requested)
		return;
	spin_lock_irqsave(&bu->mask_lock, flags);
	bu->irq_live = false;
	if (bu->mode == BU_LEGACY)
		/* Left asserting on a shared line, it would storm the others. */
		pci_intx(bu->pdev, 0);
	else if (bu->masked)
		enable_irq(bu->irq);
	bu->masked = false;
	spin_unlock_irqrestore(&bu->mask_lock, flags);
	free_irq(bu->irq, bu);
	bu->irq_requested = false;
}

static int bu_open(struct uio_info *info, struct inode *inode)
{
	struct bu_dev *bu = info->priv;
	unsigned long flags;
	int err = 0;

	mutex_lock(&bu->lock);
	if (bu->removed) {
		err = -ENODEV;
		goto out;
	}
	if (bu->openers == 0) {
		pci_set_master(bu->pdev);
		if (bu->mode != BU_NONE) {
			err = request_irq(bu->irq, bu_interrupt, bu->mode == BU_LEGACY ? IRQF_SHARED : 0,
					  bu->irq_name, bu);
			if (err) {
				pci_clear_master(bu->pdev);
				dev_err(&bu->pdev->dev, "cannot request interrupt %u: %d\n", bu->irq, err);
				goto out;
			}
			bu->irq_requested = true;
			spin_lock_irqsave(&bu->mask_lock, flags);
			bu->irq_live = true;
			spin_unlock_irqrestore(&bu->mask_lock, flags);
		}
	}
	bu->openers++;
out:
	mutex_unlock(&bu->lock);
	return err;
}

static int bu_release(struct uio_info *info, struct inode *inode)
{
	struct bu_dev *bu = info->priv;

	mutex_lock(&bu->lock);
	if (bu->openers && --bu->openers == 0) {
		bu_free_irq(bu);
		/* No owner any more: no DMA either. */
		pci_clear_master(bu->pdev);
	}
	mutex_unlock(&bu->lock);
	return 0;
}

/* Memory BARs become UIO maps, I/O BARs UIO port regions, in BAR order. */
static void bu_setup_bars(struct bu_dev *bu)
{
	struct pci_dev *pdev = bu->pdev;
	int bar, maps = 0, ports = 0;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		resource_size_t start = pci_resource_start(pdev, bar);
		resource_size_t len = pci_resource_len(pdev, bar);
		unsigned long flags = pci_resource_flags(pdev, bar);

		if (!start || !len)
			continue;
		if ((flags & IORESOURCE_MEM) && maps < MAX_UIO_MAPS) {
			/* uio maps whole pages of a page-aligned region */
			if ((start & ~PAGE_MASK) || len < PAGE_SIZE) {
				dev_info(&pdev->dev, "BAR%d (%pa, %pa bytes) is smaller than a page: not a UIO map\n",
					 bar, &start, &len);
				continue;
			}
			bu->info.mem[maps].name = kasprintf(GFP_KERNEL, "BAR%d", bar);
			bu->info.mem[maps].addr = start;
			bu->info.mem[maps].size = len;
			bu->info.mem[maps].memtype = UIO_MEM_PHYS;
			maps++;
		} else if ((flags & IORESOURCE_IO) && ports < MAX_UIO_PORT_REGIONS) {
			bu->info.port[ports].name = kasprintf(GFP_KERNEL, "BAR%d", bar);
			bu->info.port[ports].start = start;
			bu->info.port[ports].size = len;
			bu->info.port[ports].porttype = UIO_PORT_X86;
			ports++;
		}
	}
}

static void bu_free_bar_names(struct bu_dev *bu)
{
	int i;

	for (i = 0; i < MAX_UIO_MAPS; i++)
		kfree(bu->info.mem[i].name);
	for (i = 0; i < MAX_UIO_PORT_REGIONS; i++)
		kfree(bu->info.port[i].name);
}

/* One vector, of the first mode from intr_mode on that the device offers. */
static void bu_setup_irq(struct bu_dev *bu)
{
	static const unsigned int flags[] = {
		[BU_MSIX] = PCI_IRQ_MSIX, [BU_MSI] = PCI_IRQ_MSI, [BU_LEGACY] = PCI_IRQ_INTX,
	};
	struct pci_dev *pdev = bu->pdev;
	enum bu_mode m;

	for (m = first_mode; m > BU_NONE; m--) {
		if (m == BU_LEGACY && (!pdev->irq || !pci_intx_mask_supported(pdev)))
			continue;	/* no pin, or its Interrupt Disable bit does not work */
		if (pci_alloc_irq_vectors(pdev, 1, 1, flags[m]) == 1)
			break;
	}
	bu->mode = m;
	if (m != BU_NONE) {
		bu->irq = pci_irq_vector(pdev, 0);
		snprintf(bu->irq_name, sizeof(bu->irq_name), DRV_NAME "-%s", pci_name(pdev));
	}
	if (m == first_mode)
		dev_info(&pdev->dev, "interrupts: %s\n", bu_mode_names[m]);
	else
		dev_info(&pdev->dev, "interrupts: %s (%s asked for; the device has no better)\n",
			 bu_mode_names[m], bu_mode_names[first_mode]);
}

static ssize_t intr_mode_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct bu_dev *bu = pci_get_drvdata(to_pci_dev(dev));

	return sysfs_emit(buf, "%s\n", bu_mode_names[bu->mode]);
}
static DEVICE_ATTR_RO(intr_mode);

static struct attribute *bu_attrs[] = {
	&dev_attr_intr_mode.attr,
	NULL,
};

static const struct attribute_group bu_group = {
	.name = DRV_NAME,
	.attrs = bu_attrs,
};

static const struct attribute_group *bu_groups[] = {
	&bu_group,
	NULL,
};

static int bu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct bu_dev *bu;
	int err;

	bu = kzalloc(sizeof(*bu), GFP_KERNEL);
	if (!bu)
		return -ENOMEM;
	bu->pdev = pdev;
	mutex_init(&bu->lock);
	spin_lock_init(&bu->mask_lock);

	err = pci_enable_device(pdev);
	if (err) {
		dev_err(&pdev->dev, "cannot enable the device: %d\n", err);
		goto free;
	}
	err = pci_request_regions(pdev, DRV_NAME);
	if (err) {
		dev_err(&pdev->dev, "its BARs are taken: %d\n", err);
		goto disable;
	}
	/* Buffers may be anywhere: user space gives the device its addresses. */
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (err) {
		dev_err(&pdev->dev, "no usable DMA mask: %d\n", err);
		goto release;
	}

	bu_setup_bars(bu);
	bu_setup_irq(bu);
	bu->info.name = DRV_NAME;
	bu->info.version = DRV_VERSION;
	bu->info.irq = bu->mode == BU_NONE ? UIO_IRQ_NONE : UIO_IRQ_CUSTOM;
	bu->info.open = bu_open;
	bu->info.release = bu_release;
	bu->info.irqcontrol = bu_irqcontrol;
	bu->info.priv = bu;
	pci_set_drvdata(pdev, bu);

	err = uio_register_device(&pdev->dev, &bu->info);
	if (err) {
		dev_err(&pdev->dev, "cannot register the UIO device: %d\n", err);
		goto vectors;
	}
	return 0;

vectors:
	pci_free_irq_vectors(pdev);
	bu_free_bar_names(bu);
release:
	pci_release_regions(pdev);
disable:
	pci_disable_device(pdev);
free:
	kfree(bu);
	return err;
}

static void bu_remove(struct pci_dev *pdev)
{
	struct bu_dev *bu = pci_get_drvdata(pdev);

	if (pdev->is_physfn && pci_num_vf(pdev))
		pci_disable_sriov(pdev);
	/*
	 * A process may still hold the device open: its interrupt goes now,
	 * and once unregistered UIO calls release no more.
	 */
	mutex_lock(&bu->lock);
	bu_free_irq(bu);
	bu->removed = true;
	mutex_unlock(&bu->lock);
	uio_unregister_device(&bu->info);
	pci_clear_master(pdev);
	pci_free_irq_vectors(pdev);
	bu_free_bar_names(bu);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	kfree(bu);
}

/* Virtual functions through the PF's sriov_numvfs file (0 removes them). */
static int bu_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	int err;

	if (num_vfs == 0) {
		if (pci_vfs_assigned(pdev))
			return -EPERM;
		pci_disable_sriov(pdev);
		return 0;
	}
	err = pci_enable_sriov(pdev, num_vfs);
	return err ? err : num_vfs;
}

static struct pci_driver bu_driver = {
	.name = DRV_NAME,
	.id_table = NULL,	/* driver_override or new_id only */
	.probe = bu_probe,
	.remove = bu_remove,
	.sriov_configure = bu_sriov_configure,
	.dev_groups = bu_groups,
};

static int __init bu_init(void)
{
	enum bu_mode m;

	for (m = BU_NONE; m <= BU_MSIX; m++)
		if (!strcmp(intr_mode, bu_mode_names[m]))
			break;
	if (m > BU_MSIX) {
		pr_err(DRV_NAME ": intr_mode=%s: use msix, msi, legacy or none\n", intr_mode);
		return -EINVAL;
	}
	first_mode = m;
	return pci_register_driver(&bu_driver);
}

static void __exit bu_exit(void)
{
	pci_unregister_driver(&bu_driver);
}

module_init(bu_init);
module_exit(bu_exit);

MODULE_DESCRIPTION("UIO driver for user-space PCI drivers, with MSI-X, MSI or INTx");
MODULE_LICENSE("GPL v2");
MODULE_VERSION(DRV_VERSION);
